"""Detection of pre-quantized checkpoints: the checkpoint's own config decides, names hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantize import detect


def write(tmp_path: Path, name: str, quant: dict | None) -> Path:  # type: ignore[type-arg]
    folder = tmp_path / name
    folder.mkdir()
    config: dict = {"model_type": "llama"}  # type: ignore[type-arg]
    if quant is not None:
        config["quantization_config"] = quant
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def ct(weights_bits: int, wtype: str, act: dict | None) -> dict:  # type: ignore[type-arg]
    group = {"weights": {"num_bits": weights_bits, "type": wtype}, "input_activations": act}
    return {"quant_method": "compressed-tensors", "config_groups": {"group_0": group}}


@pytest.mark.parametrize(
    ("quant", "method", "bits", "scheme"),
    [
        ({"quant_method": "awq", "bits": 4, "group_size": 128}, "awq", 4, "W4A16"),
        ({"quant_method": "gptq", "bits": 4}, "gptq", 4, "W4A16"),
        ({"quant_method": "fp8"}, "fp8", 8, "FP8"),
        ({"quant_method": "auto-round", "bits": 4}, "auto-round", 4, "W4A16"),
        ({"quant_method": "modelopt", "quant_algo": "NVFP4"}, "modelopt_fp4", 4, "NVFP4"),
        (ct(4, "int", None), "compressed-tensors", 4, "W4A16"),
        (ct(8, "int", {"num_bits": 8, "type": "int"}), "compressed-tensors", 8, "W8A8-INT8"),
        (
            ct(8, "float", {"num_bits": 8, "type": "float", "dynamic": True}),
            "compressed-tensors",
            8,
            "FP8-DYNAMIC",
        ),
    ],
)
def test_config_decides(tmp_path: Path, quant: dict, method: str, bits: int, scheme: str) -> None:  # type: ignore[type-arg]
    info = detect.detect(write(tmp_path, "model", quant))
    assert (info.method, info.bits, info.scheme, info.source) == (method, bits, scheme, "config")


def test_float_checkpoint_with_a_misleading_name_is_float(tmp_path: Path) -> None:
    info = detect.detect(write(tmp_path, "llama-awq", None))
    assert not info.is_quantized


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("TheBloke/Llama-2-7B-AWQ", "awq"),
        ("org/model-GPTQ-Int4", "gptq"),
        ("org/model-w4a16", "compressed-tensors"),
        ("nvidia/Llama-3.1-8B-NVFP4", "modelopt_fp4"),
        ("org/model-autoround", "auto-round"),
        ("org/plain-model", None),
        ("org/awqward-name", None),
    ],
)
def test_name_markers_are_hints(name: str, method: str | None) -> None:
    assert detect.info_from_name(name).method == method


def test_requests_against_checkpoints(tmp_path: Path) -> None:
    awq = detect.detect(write(tmp_path, "a", {"quant_method": "awq", "bits": 4}))
    plain = detect.detect(write(tmp_path, "b", None))
    assert detect.resolve_request("auto", awq) is None
    assert detect.resolve_request("4bit", awq) is None
    assert detect.resolve_request("awq_marlin", awq) == "awq_marlin"
    assert detect.resolve_request("fp8", plain) == "fp8"  # vLLM quantizes on load (GPU)
    with pytest.raises(detect.QuantizationMismatch, match="already awq"):
        detect.resolve_request("8bit", awq)
    with pytest.raises(detect.QuantizationMismatch, match="QUANTIZATION=gptq"):
        detect.resolve_request("gptq", awq)
    with pytest.raises(detect.QuantizationMismatch, match="serve it as it is"):
        detect.resolve_request("none", awq)
    with pytest.raises(detect.QuantizationMismatch, match="export it first"):
        detect.resolve_request("4bit", plain)


def test_broken_config_json_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text("{nope")
    with pytest.raises(ValueError, match="is not valid JSON"):
        detect.detect(folder)
