"""Detection of pre-quantized checkpoints: the checkpoint's own config decides, names hint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from quantize import detect


def write(tmp_path: Path, name: str, quant: dict[str, Any] | None) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    config: dict[str, Any] = {"model_type": "llama"}
    if quant is not None:
        config["quantization_config"] = quant
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def ct(weights_bits: int, wtype: str, act: dict[str, Any] | None) -> dict[str, Any]:
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
        (
            ct(4, "float", {"num_bits": 4, "type": "float", "dynamic": "local"}),
            "compressed-tensors",
            4,
            "NVFP4",
        ),
        (ct(4, "float", None), "compressed-tensors", 4, "NVFP4A16"),
        (ct(8, "float", None), "compressed-tensors", 8, "FP8-W8A16"),
        ({"quant_method": "bitsandbytes", "load_in_4bit": True}, "bitsandbytes", 4, None),
    ],
)
def test_config_decides(
    tmp_path: Path, quant: dict[str, Any], method: str, bits: int, scheme: str
) -> None:
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


# The quantization_config that llmcompressor 0.14 / compressed-tensors 0.19 wrote into
# config.json for each of our four exports of SmolLM2 (trimmed to the fields that matter).
def _weights(
    bits: int, wtype: str, strategy: str, group: int | None, symmetric: bool
) -> dict[str, Any]:
    return {
        "num_bits": bits,
        "type": wtype,
        "strategy": strategy,
        "group_size": group,
        "symmetric": symmetric,
        "dynamic": False,
    }


def _tokens(atype: str) -> dict[str, Any]:
    return {"num_bits": 8, "type": atype, "strategy": "token", "symmetric": True, "dynamic": True}


def _export(
    fmt: str, weights: dict[str, Any], activations: dict[str, Any] | None
) -> dict[str, Any]:
    group: dict[str, Any] = {
        "format": fmt,
        "targets": ["Linear"],
        "weights": weights,
        "input_activations": activations,
        "output_activations": None,
    }
    return {
        "quant_method": "compressed-tensors",
        "format": fmt,
        "config_groups": {"group_0": group},
        "ignore": ["lm_head"],
        "kv_cache_scheme": None,
        "quantization_status": "compressed",
        "version": "0.19.0",
    }


OUR_EXPORTS = {
    "awq-w4a16": _export("pack-quantized", _weights(4, "int", "group", 64, False), None),
    "gptq-w4a16": _export("pack-quantized", _weights(4, "int", "group", 64, True), None),
    "fp8-dynamic": _export(
        "float-quantized", _weights(8, "float", "channel", None, True), _tokens("float")
    ),
    "int8-w8a8": _export(
        "int-quantized", _weights(8, "int", "channel", None, True), _tokens("int")
    ),
}


@pytest.mark.parametrize(
    ("scheme", "bits", "detected"),
    [
        ("awq-w4a16", 4, "W4A16"),
        ("gptq-w4a16", 4, "W4A16"),
        ("fp8-dynamic", 8, "FP8-DYNAMIC"),
        ("int8-w8a8", 8, "W8A8-INT8"),
    ],
)
def test_our_exports_are_detected(tmp_path: Path, scheme: str, bits: int, detected: str) -> None:
    info = detect.detect(write(tmp_path, f"chat-{scheme}", OUR_EXPORTS[scheme]))
    assert (info.method, info.bits, info.scheme, info.source) == (
        "compressed-tensors",
        bits,
        detected,
        "config",
    )
    # Served as it is: vLLM reads quantization_config itself.
    assert detect.resolve_request("auto", info) is None
    assert detect.resolve_request(f"{bits}bit", info) is None
    assert detect.resolve_request("compressed-tensors", info) == "compressed-tensors"


@pytest.mark.parametrize(
    ("scheme", "asked", "message"),
    [
        (
            "int8-w8a8",
            "4bit",
            "QUANTIZATION=4bit but the checkpoint is already compressed-tensors W8A8-INT8",
        ),
        ("fp8-dynamic", "4bit", "already compressed-tensors FP8-DYNAMIC"),
        ("awq-w4a16", "8bit", "already compressed-tensors W4A16 .*ask for 4bit or auto"),
        ("gptq-w4a16", "awq", "QUANTIZATION=awq but the checkpoint is compressed-tensors W4A16"),
        ("int8-w8a8", "none", "use QUANTIZATION=auto to serve it as it is"),
    ],
)
def test_inconsistent_requests_on_our_exports(
    tmp_path: Path, scheme: str, asked: str, message: str
) -> None:
    info = detect.detect(write(tmp_path, "export", OUR_EXPORTS[scheme]))
    with pytest.raises(detect.QuantizationMismatch, match=message):
        detect.resolve_request(asked, info)


def test_a_folder_without_config_falls_back_to_its_name(tmp_path: Path) -> None:
    folder = tmp_path / "Qwen2.5-7B-Instruct-AWQ"
    folder.mkdir()
    info = detect.detect(folder)
    assert (info.method, info.bits, info.source) == ("awq", 4, "name")
    # A name is only a hint: it never refuses a request on its own (vLLM reads the real config).
    assert detect.resolve_request("8bit", info) is None
    assert detect.resolve_request("gptq", info) == "gptq"


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("org/Model-compressed-tensors", "compressed-tensors"),
        ("org/model-auto-round-int4", "auto-round"),
        ("org/model_gptq_4bit", "gptq"),
        ("org/model-NVFP4A16", None),
    ],
)
def test_more_name_markers(name: str, method: str | None) -> None:
    assert detect.info_from_name(name).method == method
