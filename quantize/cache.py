"""Exports kept under ``.yap/quantized/``, keyed by source checkpoint + scheme + options.

``ensure_export`` is what the run command calls for ``QUANTIZATION=4bit|8bit`` on a float
checkpoint: the first start makes the export (in a child process, so the run command does not
keep torch and llmcompressor in memory), later starts find it by key and reuse it. Both cases
are announced on stdout. A lock file keeps two starts from exporting the same thing at once.

Key = sha256 of (the source's content hash, the scheme, the options that change that scheme's
result, the calibration data's content hash, the recipe version); the folder is
``<source name>-<scheme>-<key[:12]>``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from common import paths
from quantize import calibration, checkpoint, hardware, metadata
from quantize.export import Announce, ExportError, ExportOptions, export
from quantize.schemes import Scheme, get_scheme, scheme_for_bits

QUANTIZED_DIR = paths.STATE_DIR / "quantized"
HASH_MEMO_NAME = ".source-hashes.json"
BITS_REQUESTS = ("4bit", "8bit")


def resolve_scheme(name: str, device: str | None = None) -> Scheme:
    """A scheme by name, or the run command's default for ``4bit``/``8bit`` on ``device``."""
    if name.strip().lower() in BITS_REQUESTS:
        where = device or ("cuda" if hardware.cuda_capability() else "cpu")
        # On CPU the 8-bit choice is INT8 whatever the ISA: vLLM CPU has int8 GEMMs, and an
        # AVX-512 CPU's FP8 support covers the KV cache, not FP8 weights (emulated, ~7x slower).
        fp8 = where.startswith("cuda") and hardware.fp8_capable(where)
        return scheme_for_bits(name, fp8_capable=fp8)
    return get_scheme(name)


def calibration_identity(scheme: Scheme, options: ExportOptions) -> str | None:
    """The calibration data's content hash (so an edited data file makes a new export)."""
    if not scheme.needs_calibration:
        return None
    try:
        return calibration.fingerprint(calibration.parse_source(options.calibration))
    except calibration.CalibrationError as exc:
        raise ExportError(str(exc)) from None


def cache_key(
    source_hash: str, scheme: Scheme, options: ExportOptions, calibration_id: str | None = None
) -> str:
    material = {
        "source": source_hash,
        "scheme": scheme.name,
        "options": options.relevant_to(scheme),
        "calibration_data": calibration_id,
        "recipe": metadata.RECIPE_VERSION,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def export_folder(cache_dir: Path, source: Path, scheme: Scheme, key: str) -> Path:
    return cache_dir / f"{source.name}-{scheme.name}-{key[:12]}"


def is_finished(folder: Path, key: str) -> bool:
    """A complete export made for ``key`` (metadata is written last, then renamed in place)."""
    if not (folder / "config.json").is_file():
        return False
    try:
        return metadata.read_metadata(folder).get("cache_key") == key
    except metadata.MetadataError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export_in_child(
    source: Path, scheme: Scheme, folder: Path, options: ExportOptions, key: str, source_hash: str
) -> None:
    python = os.environ.get("YAP_PYTHON") or sys.executable
    command = [
        python, "-m", "quantize", str(source),
        "--scheme", scheme.name,
        "--output", str(folder),
        "--overwrite",
        "--group-size", str(options.group_size),
        "--calibration", options.calibration,
        "--samples", str(options.samples),
        "--seq-len", str(options.seq_len),
        "--seed", str(options.seed),
        "--cache-key", key,
        "--source-hash", source_hash,
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT)}
    env.setdefault("HF_HUB_OFFLINE", "1")
    done = subprocess.run(command, env=env, check=False)
    if done.returncode != 0:
        raise ExportError(
            f"exporting {source.name} as {scheme.name} failed (exit {done.returncode}); "
            "the lines above say why"
        )


def ensure_export(
    model_dir: Path | str,
    scheme: str,
    options: ExportOptions | None = None,
    *,
    device: str | None = None,
    cache_dir: Path | None = None,
    in_process: bool = False,
    announce: Announce = print,
) -> Path:
    """The cached export of ``model_dir`` as ``scheme``, made first if it is not there yet.

    ``scheme`` is a scheme name (``awq``, ``gptq``, ``fp8``, ``int8`` or a canonical id) or
    ``4bit``/``8bit`` (the default 4-/8-bit scheme for ``device``, detected when None).
    Raises ``ExportError`` (or ``SchemeError``) with a message for the operator.
    """
    try:
        source = checkpoint.validate_source(model_dir)
    except checkpoint.CheckpointError as exc:
        raise ExportError(str(exc)) from None
    chosen = resolve_scheme(scheme, device)
    opts = options or ExportOptions()
    root = (cache_dir or QUANTIZED_DIR).resolve()
    source_hash = checkpoint.checkpoint_hash(source, memo=root / HASH_MEMO_NAME)
    key = cache_key(source_hash, chosen, opts, calibration_identity(chosen, opts))
    folder = export_folder(root, source, chosen, key)
    if is_finished(folder, key):
        announce(f"[quantize] reusing the cached {chosen.label} export {folder}")
        return folder
    with _locked(root / ".locks" / f"{folder.name}.lock"):
        if is_finished(folder, key):  # another start made it while we waited
            announce(f"[quantize] reusing the cached {chosen.label} export {folder}")
            return folder
        announce(
            f"[quantize] no cached {chosen.label} export of {source.name}: making {folder} "
            "(once; later starts reuse it)"
        )
        if in_process:
            export(
                source, chosen, folder, opts,
                overwrite=True, cache_key=key, source_hash=source_hash, announce=announce,
            )  # fmt: skip
        else:
            _export_in_child(source, chosen, folder, opts, key, source_hash)
        if not is_finished(folder, key):
            raise ExportError(f"the export finished but {folder} is not a complete export")
    return folder
