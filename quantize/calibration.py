"""Calibration data for AWQ/GPTQ: the set the project ships, a user file, or a hub dataset.

``--calibration`` takes ``shipped`` (default), a path to a local file, or ``hub:NAME[:SPLIT]``.
A sample is either plain text or a chat (a list of ``{"role", "content"}`` messages); chats are
rendered with the model's own chat template, so calibration sees what serving sees.

Loading and selection are pure apart from reading the file; only ``load_hub`` touches the
network, and it refuses at once when the hub is known to be unreachable.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_CALIBRATION = DATA_DIR / "calibration.jsonl"
SHIPPED_HELDOUT = DATA_DIR / "heldout.jsonl"  # for perplexity only; never used to calibrate
DEFAULT_SAMPLES = 128
DEFAULT_SEQ_LEN = 512
DEFAULT_SEED = 0
FILE_FORMATS = (".txt", ".jsonl", ".json")

Message = dict[str, str]
Sample = str | list[Message]


class CalibrationError(ValueError):
    """Calibration data could not be found, read or used; the message says how to fix it."""


class NotEnoughCalibrationData(CalibrationError):
    """Fewer usable samples than asked for."""


@dataclass(frozen=True)
class CalibrationSource:
    kind: Literal["shipped", "file", "hub"]
    location: str  # a file path, or a hub dataset name
    split: str = "train"

    @property
    def label(self) -> str:
        if self.kind == "shipped":
            return "shipped"
        if self.kind == "hub":
            return f"hub:{self.location}:{self.split}"
        return self.location


def parse_source(value: str) -> CalibrationSource:
    """``shipped``, ``hub:NAME[:SPLIT]`` or a path to an existing .txt/.jsonl/.json file."""
    text = value.strip()
    if text in {"", "shipped", "default"}:
        return CalibrationSource("shipped", str(SHIPPED_CALIBRATION))
    if text.startswith("hub:"):
        name, _, split = text[len("hub:") :].partition(":")
        if not name:
            raise CalibrationError("--calibration hub:NAME needs a dataset name, e.g. hub:org/set")
        return CalibrationSource("hub", name, split or "train")
    path = Path(text).expanduser()
    if not path.is_file():
        raise CalibrationError(
            f"calibration file {path} does not exist; pass an existing "
            f"{'/'.join(FILE_FORMATS)} file, 'shipped' for the project's own set, or "
            "hub:NAME[:SPLIT] for a dataset on a reachable hub"
        )
    if path.suffix.lower() not in FILE_FORMATS:
        raise CalibrationError(
            f"calibration file {path} has an unknown format {path.suffix!r}; use .txt "
            "(passages separated by blank lines), .jsonl or .json (objects with 'text' or "
            "'messages')"
        )
    return CalibrationSource("file", str(path.resolve()))


def _sample_from(record: Any, where: str) -> Sample:
    if isinstance(record, str):
        return record
    if isinstance(record, dict):
        if isinstance(record.get("text"), str):
            return str(record["text"])
        messages = record.get("messages")
        if isinstance(messages, list) and all(
            isinstance(m, dict)
            and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str)
            for m in messages
        ):
            return [{"role": m["role"], "content": m["content"]} for m in messages]
    raise CalibrationError(
        f"{where}: expected a string, or an object with 'text' (a string) or 'messages' "
        "(a list of {role, content} objects)"
    )


def parse_text(path_name: str, text: str, suffix: str) -> list[Sample]:
    """Samples from a file's content (``suffix`` picks the format)."""
    suffix = suffix.lower()
    if suffix == ".txt":
        return [block.strip() for block in text.split("\n\n") if block.strip()]
    if suffix == ".jsonl":
        samples: list[Sample] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                raise CalibrationError(f"{path_name}:{number} is not valid JSON: {exc}") from None
            samples.append(_sample_from(record, f"{path_name}:{number}"))
        return samples
    if suffix == ".json":
        try:
            records = json.loads(text)
        except ValueError as exc:
            raise CalibrationError(f"{path_name} is not valid JSON: {exc}") from None
        if not isinstance(records, list):
            raise CalibrationError(f"{path_name}: expected a JSON list of samples")
        return [_sample_from(r, f"{path_name}[{i}]") for i, r in enumerate(records)]
    raise CalibrationError(f"{path_name}: unknown format {suffix!r}")


def load_file(path: Path) -> list[Sample]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CalibrationError(f"cannot read calibration file {path}: {exc}") from None
    return parse_text(str(path), text, path.suffix)


def hub_offline(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    flags = (env.get("HF_HUB_OFFLINE", ""), env.get("HF_DATASETS_OFFLINE", ""))
    return any(flag.strip().lower() in {"1", "true", "yes", "on"} for flag in flags)


def load_hub(source: CalibrationSource, limit: int) -> list[Sample]:
    """The first ``limit`` rows of a hub dataset's split (needs a reachable hub)."""
    if hub_offline():
        raise CalibrationError(
            f"cannot load hub dataset {source.location!r}: the hub is not reachable here "
            "(HF_HUB_OFFLINE=1). Use --calibration shipped, or a local .txt/.jsonl/.json file"
        )
    try:
        import datasets

        rows = datasets.load_dataset(source.location, split=f"{source.split}[:{limit}]")
    except (OSError, ConnectionError, ValueError) as exc:
        raise CalibrationError(
            f"cannot load hub dataset {source.location!r} (split {source.split!r}): {exc}. "
            "Check the name and the network, or use --calibration shipped or a local file"
        ) from None
    columns = list(getattr(rows, "column_names", []))
    column = next((c for c in ("messages", "text") if c in columns), None)
    if column is None:
        raise CalibrationError(
            f"hub dataset {source.location!r} has no 'text' or 'messages' column "
            f"(columns: {', '.join(columns)}); convert it to a local .jsonl file"
        )
    return [
        _sample_from({column: row[column]}, f"{source.location}[{i}]") for i, row in enumerate(rows)
    ]


def load_samples(source: CalibrationSource, limit: int) -> list[Sample]:
    if source.kind == "hub":
        return load_hub(source, limit)
    return load_file(Path(source.location))


def fingerprint(source: CalibrationSource) -> str:
    """What identifies the data for cache keys: the file's content hash, or the hub name."""
    if source.kind == "hub":
        return f"hub:{source.location}:{source.split}"
    digest = hashlib.sha256(Path(source.location).read_bytes()).hexdigest()
    return f"sha256:{digest}"


def select(samples: Sequence[Sample], count: int, seed: int = DEFAULT_SEED) -> list[Sample]:
    """``count`` samples chosen reproducibly, or an error saying how many there are."""
    if count < 1:
        raise CalibrationError(f"--samples must be at least 1, got {count}")
    if len(samples) < count:
        raise NotEnoughCalibrationData(
            f"asked for {count} calibration samples but the data has only {len(samples)}; "
            f"pass --samples {len(samples)} or fewer, or a larger --calibration file"
        )
    order = list(range(len(samples)))
    random.Random(seed).shuffle(order)
    return [samples[i] for i in sorted(order[:count])]


def render(sample: Sample, tokenizer: Any) -> str:
    """A chat through the model's chat template; plain text as it is."""
    if isinstance(sample, str):
        return sample
    if getattr(tokenizer, "chat_template", None):
        return str(tokenizer.apply_chat_template(sample, tokenize=False))
    return "\n\n".join(m["content"] for m in sample)


def tokenize(samples: Sequence[Sample], tokenizer: Any, seq_len: int) -> list[list[int]]:
    """Token ids per sample, truncated to ``seq_len``; empty samples are an error."""
    if seq_len < 8:
        raise CalibrationError(f"--seq-len must be at least 8 tokens, got {seq_len}")
    encoded: list[list[int]] = []
    for index, sample in enumerate(samples):
        ids = tokenizer(render(sample, tokenizer), add_special_tokens=False)["input_ids"]
        if not ids:
            raise CalibrationError(f"calibration sample {index} is empty")
        encoded.append(list(ids[:seq_len]))
    return encoded


@dataclass(frozen=True)
class CalibrationSet:
    """What an export was calibrated on, as recorded in its metadata."""

    source: CalibrationSource
    available: int
    samples: int
    seq_len: int
    tokens: int
    fingerprint: str
    token_ids: tuple[tuple[int, ...], ...]

    def describe(self) -> dict[str, Any]:
        return {
            "source": self.source.label,
            "kind": self.source.kind,
            "fingerprint": self.fingerprint,
            "available_samples": self.available,
            "samples": self.samples,
            "max_seq_len": self.seq_len,
            "tokens": self.tokens,
        }

    def as_dataset(self) -> Any:
        import datasets

        return datasets.Dataset.from_dict(
            {
                "input_ids": [list(ids) for ids in self.token_ids],
                "attention_mask": [[1] * len(ids) for ids in self.token_ids],
            }
        )


def prepare(
    source: CalibrationSource,
    tokenizer: Any,
    *,
    samples: int,
    seq_len: int,
    seed: int = DEFAULT_SEED,
    loaded: Sequence[Sample] | None = None,
) -> CalibrationSet:
    """Load (unless ``loaded`` is given), select and tokenize ``samples`` calibration samples."""
    found = list(loaded) if loaded is not None else load_samples(source, limit=samples)
    chosen = select(found, samples, seed)
    token_ids = tokenize(chosen, tokenizer, seq_len)
    return CalibrationSet(
        source=source,
        available=len(found),
        samples=len(chosen),
        seq_len=seq_len,
        tokens=sum(len(ids) for ids in token_ids),
        fingerprint=fingerprint(source),
        token_ids=tuple(tuple(ids) for ids in token_ids),
    )
