"""The record every export carries: ``yap-quantization.json`` and a human ``README.md``.

Pure: builds and renders dictionaries. ``tool_versions`` reads installed package versions.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from quantize.schemes import GroupSizeChoice, Scheme

METADATA_NAME = "yap-quantization.json"
README_NAME = "README.md"
# Bump when the way exports are made changes, so cached exports are rebuilt.
RECIPE_VERSION = 1
TOOLS = ("llmcompressor", "compressed-tensors", "transformers", "torch", "datasets")


class MetadataError(ValueError):
    """An export folder has no usable metadata."""


def tool_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in TOOLS:
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


@dataclass(frozen=True)
class ExportRecord:
    """Everything the metadata says about one export."""

    scheme: Scheme
    group_size: GroupSizeChoice | None
    ignored: tuple[str, ...]
    calibration: dict[str, Any] | None
    source_path: str
    source_hash: str
    tools: dict[str, str]
    device: str
    created_at: str
    duration_s: float
    size_bytes: dict[str, int]
    cache_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        group = None
        if self.group_size is not None:
            group = {
                "requested": self.group_size.requested,
                "used": self.group_size.used,
                "fallback": self.group_size.reason,
            }
        return {
            "format": "compressed-tensors",
            "scheme": self.scheme.name,
            "label": self.scheme.label,
            "method": self.scheme.method,
            "preset": self.scheme.preset,
            "bits": self.scheme.bits,
            "group_size": group,
            "ignored_modules": list(self.ignored),
            "calibration": self.calibration,
            "source": {
                "path": self.source_path,
                "name": Path(self.source_path).name,
                "hash": self.source_hash,
            },
            "tools": self.tools,
            "recipe_version": RECIPE_VERSION,
            "device": self.device,
            "created_at": self.created_at,
            "duration_s": round(self.duration_s, 1),
            "size_bytes": self.size_bytes,
            "cache_key": self.cache_key,
        }


def write_metadata(folder: Path, record: dict[str, Any]) -> None:
    (folder / METADATA_NAME).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")


def read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA_NAME
    try:
        found = json.loads(path.read_text())
    except OSError:
        raise MetadataError(
            f"{folder} has no {METADATA_NAME}: it is not a finished export"
        ) from None
    except ValueError as exc:
        raise MetadataError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(found, dict):
        raise MetadataError(f"{path} does not hold a JSON object")
    return found


def _mib(value: int) -> str:
    return f"{value / 2**20:.1f} MiB"


def render_readme(record: dict[str, Any]) -> str:
    """A model card for the export folder, from its metadata."""
    source = record["source"]
    group = record.get("group_size")
    calibration = record.get("calibration")
    size = record.get("size_bytes", {})
    lines = [
        f"# {source['name']} — {record['label']} (compressed-tensors)",
        "",
        f"A {record['bits']}-bit export of `{source['name']}` made with llmcompressor by "
        "Yap on Triton's `python -m quantize`. vLLM serves it as it is: it reads the "
        "`quantization_config` in `config.json` (no `--quantization` flag needed).",
        "",
        "| | |",
        "|---|---|",
        f"| scheme | `{record['scheme']}` (preset `{record['preset']}`) |",
        f"| method | {record['method']} |",
        f"| bits | {record['bits']} |",
    ]
    if group:
        note = (
            f" (asked {group['requested']}: {group['fallback']})" if group.get("fallback") else ""
        )
        lines.append(f"| group size | {group['used']}{note} |")
    lines.append(
        "| not quantized | "
        + (", ".join(f"`{m}`" for m in record["ignored_modules"]) or "-")
        + " |"
    )
    if calibration:
        lines.append(
            f"| calibration | {calibration['source']}: {calibration['samples']} of "
            f"{calibration['available_samples']} samples, {calibration['tokens']} tokens, "
            f"at most {calibration['max_seq_len']} tokens each |"
        )
    else:
        lines.append(
            "| calibration | none (weights rounded to nearest; activations scaled at run time) |"
        )
    lines += [
        f"| source | `{source['path']}` |",
        f"| source hash | `{source['hash']}` |",
        f"| weights on disk | {_mib(size.get('weights', 0))} |",
        f"| made on | {record['device']}, {record['created_at']}, in {record['duration_s']} s |",
        "| tools | " + ", ".join(f"{k} {v}" for k, v in sorted(record["tools"].items())) + " |",
        "",
        "## Serve it",
        "",
        "```bash",
        "CHAT_MODEL={this folder} scripts/serve.sh    # or: vllm serve <this folder>",
        "```",
        "",
        f"The full record is in `{METADATA_NAME}`.",
        "",
    ]
    return "\n".join(lines)
