"""The export cache: keys, reuse on restart, source validation and hashing (no model runs)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from quantize import cache, checkpoint, metadata
from quantize.export import ExportError, ExportOptions
from quantize.schemes import SCHEMES


def make_source(root: Path, name: str = "tiny-chat", weights: bytes = b"w" * 64) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 576}))
    (folder / "model.safetensors").write_bytes(weights)
    (folder / "tokenizer.json").write_text("{}")
    return folder


class FakeExporter:
    """Stands in for llmcompressor: writes a minimal finished export and counts the calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Path]] = []

    def __call__(
        self, source: Path, scheme: Any, folder: Path, options: ExportOptions, **kw: Any
    ) -> Path:
        self.calls.append((scheme.name, folder))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "config.json").write_text(
            json.dumps({"quantization_config": {"quant_method": "compressed-tensors"}})
        )
        metadata.write_metadata(
            folder, {"cache_key": kw["cache_key"], "source": {"hash": kw["source_hash"]}}
        )
        return folder


@pytest.fixture
def exporter(monkeypatch: pytest.MonkeyPatch) -> FakeExporter:
    fake = FakeExporter()
    monkeypatch.setattr(cache, "export", fake)
    return fake


def test_first_start_exports_and_a_restart_reuses(tmp_path: Path, exporter: FakeExporter) -> None:
    source = make_source(tmp_path)
    said: list[str] = []
    store = tmp_path / "quantized"
    first = cache.ensure_export(
        source, "int8", cache_dir=store, in_process=True, announce=said.append
    )
    again = cache.ensure_export(
        source, "int8", cache_dir=store, in_process=True, announce=said.append
    )
    assert first == again
    assert len(exporter.calls) == 1
    assert first.parent == store.resolve()
    assert first.name.startswith("tiny-chat-int8-w8a8-")
    assert "making" in said[0] and "reusing the cached INT8 W8A8 export" in said[1]


def test_options_that_matter_make_a_new_export(tmp_path: Path, exporter: FakeExporter) -> None:
    source = make_source(tmp_path)
    store = tmp_path / "quantized"
    run = lambda scheme, **o: cache.ensure_export(  # noqa: E731
        source,
        scheme,
        ExportOptions(**o),
        cache_dir=store,
        in_process=True,
        announce=lambda _: None,
    )
    a = run("gptq", samples=16)
    b = run("gptq", samples=32)
    c = run("gptq", samples=16, group_size=32)
    d = run("awq", samples=16)
    assert len({a, b, c, d}) == 4
    # Calibration options do not split an 8-bit export (it uses no data).
    assert run("fp8", samples=16) == run("fp8", samples=64)
    assert len(exporter.calls) == 5


def test_a_changed_source_is_exported_again(tmp_path: Path, exporter: FakeExporter) -> None:
    source = make_source(tmp_path)
    store = tmp_path / "quantized"
    first = cache.ensure_export(
        source, "fp8", cache_dir=store, in_process=True, announce=lambda _: None
    )
    weights = source / "model.safetensors"
    weights.write_bytes(b"v" * 64)
    os.utime(weights, ns=(1, 1))  # a new mtime, so the hash memo is not trusted
    second = cache.ensure_export(
        source, "fp8", cache_dir=store, in_process=True, announce=lambda _: None
    )
    assert first != second and len(exporter.calls) == 2


def test_an_unfinished_folder_is_not_reused(tmp_path: Path, exporter: FakeExporter) -> None:
    source = make_source(tmp_path)
    store = tmp_path / "quantized"
    folder = cache.ensure_export(
        source, "int8", cache_dir=store, in_process=True, announce=lambda _: None
    )
    (folder / metadata.METADATA_NAME).unlink()
    cache.ensure_export(source, "int8", cache_dir=store, in_process=True, announce=lambda _: None)
    assert len(exporter.calls) == 2


def test_bits_requests_resolve_by_device() -> None:
    assert cache.resolve_scheme("4bit", "cpu").name == "gptq-w4a16"
    assert cache.resolve_scheme("8bit", "cpu").name == "int8-w8a8"
    assert cache.resolve_scheme("gptq", "cpu").name == "gptq-w4a16"


def test_bits_on_an_fp8_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache.hardware, "cuda_capability", lambda device="cuda": (9, 0))
    assert cache.resolve_scheme("8bit", "cuda").name == "fp8-dynamic"
    monkeypatch.setattr(cache.hardware, "cuda_capability", lambda device="cuda": (8, 0))
    assert cache.resolve_scheme("8bit", "cuda").name == "int8-w8a8"


def test_key_is_stable_and_sensitive() -> None:
    gptq = SCHEMES["gptq-w4a16"]
    key = cache.cache_key("sha256:a", gptq, ExportOptions())
    assert key == cache.cache_key("sha256:a", gptq, ExportOptions())
    assert key != cache.cache_key("sha256:b", gptq, ExportOptions())
    assert key != cache.cache_key("sha256:a", gptq, ExportOptions(seq_len=256))
    assert key != cache.cache_key("sha256:a", SCHEMES["awq-w4a16"], ExportOptions())
    int8 = SCHEMES["int8-w8a8"]
    assert cache.cache_key("h", int8, ExportOptions()) == cache.cache_key(
        "h", int8, ExportOptions(samples=3)
    )


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda root: root / "missing", "does not exist"),
        (lambda root: root, "has no config.json"),
    ],
)
def test_bad_sources_are_explained(tmp_path: Path, setup: Any, message: str) -> None:
    with pytest.raises(ExportError, match=message):
        cache.ensure_export(setup(tmp_path), "int8", cache_dir=tmp_path / "q", in_process=True)


def test_source_without_weights(tmp_path: Path) -> None:
    folder = make_source(tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(checkpoint.CheckpointError, match="no weight files"):
        checkpoint.validate_source(folder)


def test_an_already_quantized_source_is_refused(tmp_path: Path) -> None:
    folder = make_source(tmp_path)
    (folder / "config.json").write_text(
        json.dumps({"quantization_config": {"quant_method": "awq", "bits": 4}})
    )
    with pytest.raises(checkpoint.CheckpointError, match=r"already quantized \(awq W4A16"):
        checkpoint.validate_source(folder)


def test_unknown_scheme_is_refused_before_any_work(tmp_path: Path, exporter: FakeExporter) -> None:
    from quantize.schemes import SchemeError

    with pytest.raises(SchemeError, match="unknown quantization scheme"):
        cache.ensure_export(
            make_source(tmp_path), "int3", cache_dir=tmp_path / "q", in_process=True
        )
    assert exporter.calls == []


def test_checkpoint_hash_uses_the_memo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_source(tmp_path)
    memo = tmp_path / "memo.json"
    first = checkpoint.checkpoint_hash(folder, memo)
    assert first.startswith("sha256:") and memo.is_file()
    monkeypatch.setattr(checkpoint, "file_sha256", lambda path: pytest.fail("re-hashed"))
    assert checkpoint.checkpoint_hash(folder, memo) == first
    (folder / "tokenizer.json").write_text('{"changed": true}')  # not part of the weights
    assert checkpoint.checkpoint_hash(folder, memo) == first


def test_folder_size(tmp_path: Path) -> None:
    folder = make_source(tmp_path, weights=b"x" * 1000)
    size = checkpoint.folder_size(folder)
    assert size["weights"] == 1000 and size["total"] > 1000


def test_edited_calibration_data_makes_a_new_export(tmp_path: Path, exporter: FakeExporter) -> None:
    source = make_source(tmp_path)
    data = tmp_path / "chats.txt"
    data.write_text("\n\n".join(f"passage {i}" for i in range(20)))
    options = ExportOptions(calibration=str(data), samples=8)
    store = tmp_path / "quantized"
    first = cache.ensure_export(
        source, "gptq", options, cache_dir=store, in_process=True, announce=lambda _: None
    )
    data.write_text("\n\n".join(f"other passage {i}" for i in range(20)))
    second = cache.ensure_export(
        source, "gptq", options, cache_dir=store, in_process=True, announce=lambda _: None
    )
    assert first != second


def test_missing_calibration_file_is_an_export_error(
    tmp_path: Path, exporter: FakeExporter
) -> None:
    options = ExportOptions(calibration=str(tmp_path / "missing.jsonl"))
    with pytest.raises(ExportError, match="does not exist"):
        cache.ensure_export(
            make_source(tmp_path), "awq", options, cache_dir=tmp_path / "q", in_process=True
        )
    assert exporter.calls == []
