"""Every export's record (yap-quantization.json) and its README."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quantize import metadata
from quantize.schemes import SCHEMES, GroupSizeChoice


def record(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = dict(
        scheme=SCHEMES["gptq-w4a16"],
        group_size=GroupSizeChoice(128, 64, "group size 128 does not divide layer width(s) 576"),
        ignored=("lm_head",),
        calibration={
            "source": "shipped",
            "kind": "shipped",
            "fingerprint": "sha256:abc",
            "available_samples": 239,
            "samples": 128,
            "max_seq_len": 512,
            "tokens": 10330,
        },
        source_path="/models/chat-smollm2",
        source_hash="sha256:feed",
        tools={"llmcompressor": "0.14.0.1", "torch": "2.13.0+cpu"},
        device="cpu",
        created_at="2026-01-01T00:00:00+00:00",
        duration_s=61.26,
        size_bytes={"weights": 113_000_000, "total": 117_000_000},
        cache_key="k" * 64,
    )
    fields.update(changes)
    return metadata.ExportRecord(**fields).to_json()


def test_record_holds_what_the_issue_asks_for() -> None:
    found = record()
    assert found["format"] == "compressed-tensors"
    assert (found["method"], found["scheme"], found["preset"], found["bits"]) == (
        "gptq", "gptq-w4a16", "W4A16", 4,
    )  # fmt: skip
    assert found["group_size"] == {
        "requested": 128,
        "used": 64,
        "fallback": "group size 128 does not divide layer width(s) 576",
    }
    assert found["calibration"]["samples"] == 128 and found["calibration"]["tokens"] == 10330
    assert found["source"] == {
        "path": "/models/chat-smollm2",
        "name": "chat-smollm2",
        "hash": "sha256:feed",
    }
    assert found["tools"]["llmcompressor"] == "0.14.0.1"
    assert found["duration_s"] == 61.3
    assert found["recipe_version"] == metadata.RECIPE_VERSION
    json.dumps(found)  # plain JSON all the way down


def test_8bit_record_has_no_group_or_calibration() -> None:
    found = record(scheme=SCHEMES["int8-w8a8"], group_size=None, calibration=None)
    assert found["group_size"] is None and found["calibration"] is None


def test_readme_tells_the_story() -> None:
    text = metadata.render_readme(record())
    assert text.startswith("# chat-smollm2 — GPTQ W4A16 (compressed-tensors)")
    assert "| group size | 64 (asked 128: group size 128 does not divide" in text
    assert "shipped: 128 of 239 samples, 10330 tokens" in text
    assert "sha256:feed" in text
    assert "CHAT_MODEL=" in text
    plain = metadata.render_readme(
        record(scheme=SCHEMES["fp8-dynamic"], group_size=None, calibration=None)
    )
    assert "| calibration | none" in plain and "group size" not in plain


def test_read_back(tmp_path: Path) -> None:
    metadata.write_metadata(tmp_path, record())
    assert metadata.read_metadata(tmp_path)["cache_key"] == "k" * 64


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(metadata.MetadataError, match="not a finished export"):
        metadata.read_metadata(tmp_path)
    (tmp_path / metadata.METADATA_NAME).write_text("{oops")
    with pytest.raises(metadata.MetadataError, match="not valid JSON"):
        metadata.read_metadata(tmp_path)
    (tmp_path / metadata.METADATA_NAME).write_text("[]")
    with pytest.raises(metadata.MetadataError, match="JSON object"):
        metadata.read_metadata(tmp_path)


def test_tool_versions_name_every_tool() -> None:
    found = metadata.tool_versions()
    assert set(metadata.TOOLS) | {"python"} == set(found)
