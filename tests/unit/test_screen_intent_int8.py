"""The int8 ONNX export of a sequence classifier: cache key, agreement with torch, failures.

A tiny randomly initialised BERT stands in for the embedded classifier (the export and the
quantizer are the real ones); the embedded model's own agreement is checked in
tests/integration/test_screen_intent_runtime.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime.quantization")
transformers = pytest.importorskip("transformers")

from serving.screen_intent import onnx_int8  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=120,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=64,
        num_labels=2,
        initializer_range=0.15,  # logits of a few units, so that a wrong export shows
    )
    folder = tmp_path_factory.mktemp("tiny-bert")
    transformers.BertForSequenceClassification(config).save_pretrained(folder)
    return folder


def _batch(seed: int, rows: int = 16, tokens: int = 24) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, 120, size=(rows, tokens), dtype=np.int64)
    mask = np.ones_like(ids)
    for r in range(rows):  # padded rows of different lengths, as a real batch has
        keep = int(rng.integers(4, tokens + 1))
        ids[r, keep:] = 0
        mask[r, keep:] = 0
    types = np.zeros_like(ids)
    types[:, tokens // 2 :] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types * mask}


def test_int8_logits_follow_the_torch_model(tiny_model: Path, tmp_path: Path) -> None:
    model_file = onnx_int8.ensure_int8(tiny_model, root=tmp_path)
    session = onnx_int8.Int8Session(model_file, threads=1)
    assert session.inputs == ["input_ids", "attention_mask", "token_type_ids"]
    model = transformers.AutoModelForSequenceClassification.from_pretrained(tiny_model).eval()
    batch = _batch(1)
    with torch.inference_mode():
        expected = model(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
    got = session.logits(batch)
    assert got.shape == expected.shape == (16, 2)
    spread = float(expected.std())
    assert spread > 0.2, spread  # the rows differ, so matching them means something
    # int8 weights move a logit by a little, never by the spread of the logits themselves
    assert np.abs(got - expected).max() < 0.25 * spread
    assert np.corrcoef(got.ravel(), expected.ravel())[0, 1] > 0.99
    # a padded row's logits do not depend on what the padding holds (each row runs alone,
    # without its padding, so dynamic quantization's activation scale is the row's own)
    other = {k: v.copy() for k, v in batch.items()}
    other["input_ids"][other["attention_mask"] == 0] = 7
    assert np.abs(session.logits(other) - got).max() < 0.1 * spread


def test_missing_token_type_ids_are_zeros(tiny_model: Path, tmp_path: Path) -> None:
    session = onnx_int8.Int8Session(onnx_int8.ensure_int8(tiny_model, root=tmp_path), threads=1)
    batch = _batch(2)
    batch["token_type_ids"] = np.zeros_like(batch["input_ids"])
    without = {k: v for k, v in batch.items() if k != "token_type_ids"}
    np.testing.assert_allclose(session.logits(without), session.logits(batch), atol=1e-6)


def test_the_export_is_cached_per_checkpoint(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = onnx_int8.ensure_int8(tiny_model, root=tmp_path)
    stamp = first.stat().st_mtime_ns
    calls: list[Path] = []
    monkeypatch.setattr(onnx_int8, "_export", lambda src, out: calls.append(src))
    again = onnx_int8.ensure_int8(tiny_model, root=tmp_path)
    assert again == first and again.stat().st_mtime_ns == stamp and calls == []
    assert [p.name for p in tmp_path.iterdir()] == [first.parent.name]  # no stray temp folders


def test_the_cache_key_follows_weights_and_recipe(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in tiny_model.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    key = onnx_int8.checkpoint_digest(tiny_model)
    assert onnx_int8.checkpoint_digest(copy) == key  # the folder's path is not part of it
    (copy / "tokenizer.json").write_text("{}")  # files that do not change outputs are not
    assert onnx_int8.checkpoint_digest(copy) == key
    weights = next(copy.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 1
    weights.write_bytes(bytes(data))
    assert onnx_int8.checkpoint_digest(copy) != key
    monkeypatch.setattr(onnx_int8, "RECIPE", onnx_int8.RECIPE + 1)
    assert onnx_int8.checkpoint_digest(tiny_model) != key


def test_a_folder_without_weights_is_an_export_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(onnx_int8.ExportError, match="no weight files"):
        onnx_int8.ensure_int8(tmp_path, root=tmp_path / "cache")


def test_a_broken_checkpoint_is_an_export_error_and_leaves_no_cache(
    tiny_model: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_bytes((tiny_model / "config.json").read_bytes())
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    cache = tmp_path / "cache"
    with pytest.raises(onnx_int8.ExportError, match=r"int8 ONNX export of .* failed"):
        onnx_int8.ensure_int8(broken, root=cache)
    assert list(cache.iterdir()) == []


def test_a_model_that_is_not_a_classifier_is_refused(tiny_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "lm"
    transformers.BertForMaskedLM(
        transformers.BertConfig.from_pretrained(tiny_model)
    ).save_pretrained(other)
    with pytest.raises(onnx_int8.ExportError, match="not a sequence-classification checkpoint"):
        onnx_int8.ensure_int8(other, root=tmp_path / "cache")
