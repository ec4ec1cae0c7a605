"""What a source checkpoint is: a valid float causal-LM folder, its content hash, its widths.

Hashing a large checkpoint takes a while (about 1 s per GB), so the digest of each file is
remembered in a small memo keyed on the file's path, size and modification time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from common.digest import file_sha256
from quantize import detect

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# Files that define the model's numbers; tokenizer and template files do not change the weights.
HASHED_NAMES = ("config.json",)


class CheckpointError(ValueError):
    """The source is not a float checkpoint we can quantize; the message says why."""


def weight_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def validate_source(folder: Path | str) -> Path:
    """A local float transformers checkpoint folder, or a clear error."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise CheckpointError(
            f"model folder {path} does not exist; pass a local transformers checkpoint folder "
            "(for the embedded chat model run scripts/setup.sh first)"
        )
    if not (path / "config.json").is_file():
        raise CheckpointError(f"{path} has no config.json; it is not a transformers checkpoint")
    if not weight_files(path):
        raise CheckpointError(
            f"{path} has no weight files ({', '.join(WEIGHT_SUFFIXES)}); a GGUF or hub id "
            "must be converted to a local checkpoint first"
        )
    info = detect.detect(path)
    if info.is_quantized:
        raise CheckpointError(
            f"{path} is already quantized ({info.describe()}); quantize the float checkpoint "
            "it came from, or serve this one as it is (QUANTIZATION=auto)"
        )
    return path.resolve()


def _load_memo(memo: Path | None) -> dict[str, Any]:
    if memo is None:
        return {}
    try:
        found = json.loads(memo.read_text())
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _save_memo(memo: Path | None, entries: dict[str, Any]) -> None:
    if memo is None:
        return
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        staging = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        staging.write_text(json.dumps(entries, indent=1, sort_keys=True))
        staging.replace(memo)


def checkpoint_hash(folder: Path | str, memo: Path | None = None) -> str:
    """sha256 over the config and every weight file (names and contents), as ``sha256:...``."""
    path = Path(folder).resolve()
    files = [path / name for name in HASHED_NAMES if (path / name).is_file()]
    files += weight_files(path)
    entries = _load_memo(memo)
    changed = False
    total = hashlib.sha256()
    for file in files:
        stat = file.stat()
        key = str(file)
        stamp = [stat.st_size, stat.st_mtime_ns]
        cached = entries.get(key)
        if isinstance(cached, dict) and cached.get("stamp") == stamp:
            digest = str(cached["sha256"])
        else:
            digest = file_sha256(file)
            entries[key] = {"stamp": stamp, "sha256": digest}
            changed = True
        total.update(f"{file.name}\0{digest}\n".encode())
    if changed:
        _save_memo(memo, entries)
    return "sha256:" + total.hexdigest()


def linear_input_widths(model: Any, ignore: Iterable[str] = ()) -> list[int]:
    """Input features of every ``nn.Linear`` that will be quantized (all but ``ignore``)."""
    import torch

    skipped = set(ignore)
    return sorted(
        {
            int(module.in_features)
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] not in skipped
        }
    )


def folder_size(folder: Path) -> dict[str, int]:
    """Bytes on disk: weight files, and everything in the folder."""
    files = [p for p in folder.rglob("*") if p.is_file()]
    return {
        "weights": sum(p.stat().st_size for p in files if p.suffix in WEIGHT_SUFFIXES),
        "total": sum(p.stat().st_size for p in files),
    }
