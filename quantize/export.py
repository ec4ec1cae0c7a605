"""Run llmcompressor's ``oneshot`` on a float checkpoint and write a compressed-tensors export.

The export folder holds the quantized weights with ``quantization_config`` in ``config.json``
(vLLM and transformers read it), the tokenizer and chat template, ``yap-quantization.json``
(the record: scheme, group size, calibration, tools, source hash) and a ``README.md``.
It is written to a staging folder beside the target and renamed into place at the end, so a
half-written export never looks finished.

Runs on CPU (small models, AWQ included) and uses a GPU when there is one: llmcompressor moves
each layer to the accelerator while it calibrates.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quantize import calibration as cal
from quantize import checkpoint, cpu_patches, detect, metadata
from quantize.schemes import (
    DEFAULT_GROUP_SIZE,
    IGNORED_MODULES,
    GroupSizeChoice,
    Scheme,
    build_recipe,
    choose_group_size,
)

Announce = Callable[[str], None]
# Small files from the source folder that an export should carry unchanged.
CARRIED_FILES = ("chat_template.jinja", "generation_config.json")


class ExportError(RuntimeError):
    """The export could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class ExportOptions:
    """What a user can choose about an export (the scheme is chosen separately)."""

    group_size: int = DEFAULT_GROUP_SIZE
    calibration: str = "shipped"
    samples: int = cal.DEFAULT_SAMPLES
    seq_len: int = cal.DEFAULT_SEQ_LEN
    seed: int = cal.DEFAULT_SEED

    def relevant_to(self, scheme: Scheme) -> dict[str, Any]:
        """The options that change ``scheme``'s result (others must not split the cache)."""
        found: dict[str, Any] = {}
        if scheme.grouped:
            found["group_size"] = self.group_size
        if scheme.needs_calibration:
            found.update(
                calibration=self.calibration,
                samples=self.samples,
                seq_len=self.seq_len,
                seed=self.seed,
            )
        return found

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _say(announce: Announce, text: str) -> None:
    announce(f"[quantize] {text}")


def _import_llmcompressor() -> Any:
    try:
        import llmcompressor
    except ImportError as exc:
        raise ExportError(
            f"llmcompressor is not usable in this environment ({exc}). Install it with "
            "`.venv/bin/pip install --no-deps llmcompressor==0.14.0.1 compressed-tensors==0.19.0` "
            "(see quantize/README.md: its declared pins conflict with vLLM's, so --no-deps)"
        ) from None
    return llmcompressor


def _carry_small_files(source: Path, target: Path) -> None:
    for name in CARRIED_FILES:
        if (source / name).is_file() and not (target / name).exists():
            shutil.copy2(source / name, target / name)


def _staging_dir(output: Path) -> Path:
    return output.with_name(f".{output.name}.partial-{os.getpid()}")


def export(
    model_dir: Path | str,
    scheme: Scheme,
    output_dir: Path | str,
    options: ExportOptions = ExportOptions(),
    *,
    overwrite: bool = False,
    cache_key: str | None = None,
    source_hash: str | None = None,
    announce: Announce = print,
) -> Path:
    """Quantize ``model_dir`` with ``scheme`` into ``output_dir``; return ``output_dir``."""
    started = time.monotonic()
    try:
        source = checkpoint.validate_source(model_dir)
    except checkpoint.CheckpointError as exc:
        raise ExportError(str(exc)) from None
    output = Path(output_dir).expanduser().resolve()
    if output == source or source in output.parents:
        raise ExportError(f"the output folder {output} must not be inside the source {source}")
    if output.exists() and not overwrite:
        raise ExportError(f"{output} already exists; choose another --output or pass --overwrite")
    source_cal: cal.CalibrationSource | None = None
    loaded: list[cal.Sample] = []
    if scheme.needs_calibration:
        try:
            # Before the heavy imports and the model: a data problem should fail in a second.
            source_cal = cal.parse_source(options.calibration)
            loaded = cal.load_samples(source_cal, limit=options.samples)
            cal.select(loaded, options.samples, options.seed)
        except cal.CalibrationError as exc:
            raise ExportError(str(exc)) from None

    _import_llmcompressor()
    import torch
    from llmcompressor import oneshot
    from transformers import AutoModelForCausalLM, AutoTokenizer

    for line in cpu_patches.apply():
        _say(announce, f"cpu patch: {line}")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    _say(announce, f"{scheme.label}: loading {source} (on {device})")
    tokenizer = AutoTokenizer.from_pretrained(source)

    cal_set: cal.CalibrationSet | None = None
    oneshot_data: dict[str, Any] = {}
    if source_cal is not None:
        try:
            cal_set = cal.prepare(
                source_cal,
                tokenizer,
                samples=options.samples,
                seq_len=options.seq_len,
                seed=options.seed,
                loaded=loaded,
            )
        except cal.CalibrationError as exc:
            raise ExportError(str(exc)) from None
        _say(
            announce,
            f"calibration: {cal_set.samples} samples from {source_cal.label} "
            f"({cal_set.tokens} tokens, at most {options.seq_len} each)",
        )
        oneshot_data = {
            "dataset": cal_set.as_dataset(),
            "num_calibration_samples": cal_set.samples,
            "max_seq_length": options.seq_len,
            "shuffle_calibration_samples": False,
        }

    model = AutoModelForCausalLM.from_pretrained(source, dtype="auto")
    group: GroupSizeChoice | None = None
    if scheme.grouped:
        try:
            group = choose_group_size(
                options.group_size, checkpoint.linear_input_widths(model, IGNORED_MODULES)
            )
        except ValueError as exc:
            raise ExportError(str(exc)) from None
        if group.reason:
            _say(announce, f"group size fallback: {group.reason}")

    recipe = build_recipe(scheme, group.used if group else None)
    _say(announce, f"running llmcompressor oneshot ({scheme.method}, preset {scheme.preset})")
    oneshot(model=model, recipe=recipe, **oneshot_data)

    staging = _staging_dir(output)
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir(parents=True)
        model.save_pretrained(staging, save_compressed=True)
        tokenizer.save_pretrained(staging)
        _carry_small_files(source, staging)
        found = detect.detect(staging)
        if not found.is_quantized or found.bits != scheme.bits:
            raise ExportError(
                f"llmcompressor wrote {staging} without the expected {scheme.bits}-bit "
                f"quantization_config (found: {found.describe()})"
            )
        record = metadata.ExportRecord(
            scheme=scheme,
            group_size=group,
            ignored=IGNORED_MODULES,
            calibration=cal_set.describe() if cal_set else None,
            source_path=str(source),
            source_hash=source_hash or checkpoint.checkpoint_hash(source),
            tools=metadata.tool_versions(),
            device=device,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            duration_s=time.monotonic() - started,
            size_bytes=checkpoint.folder_size(staging),
            cache_key=cache_key,
        ).to_json()
        record["options"] = options.relevant_to(scheme)
        metadata.write_metadata(staging, record)
        (staging / metadata.README_NAME).write_text(metadata.render_readme(record))
        if output.exists():
            shutil.rmtree(output)
        output.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(output)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _say(
        announce,
        f"wrote {output} ({record['size_bytes']['weights'] / 2**20:.1f} MiB of weights, "
        f"{record['duration_s']} s)",
    )
    return output
