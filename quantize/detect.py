"""Tell whether a checkpoint is already quantized, how, and what vLLM should be asked for.

The checkpoint's own ``quantization_config`` (in ``config.json``) decides; name markers such as
``awq`` or ``gptq`` in the folder name are only a hint, used when the config says nothing.
Pure functions: reading ``config.json`` is the only I/O.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NAME_MARKERS: dict[str, tuple[str, int | None]] = {
    # marker in a folder/repo name -> (method, bits)
    "awq": ("awq", 4),
    "gptq": ("gptq", 4),
    "w4a16": ("compressed-tensors", 4),
    "nvfp4": ("modelopt_fp4", 4),
    "compressed-tensors": ("compressed-tensors", None),
    "autoround": ("auto-round", 4),
    "auto-round": ("auto-round", 4),
}
REQUEST_ALIASES = {"": "auto", "auto": "auto", "none": "none", "off": "none", "false": "none"}
BITS_REQUESTS = {"4bit": 4, "8bit": 8}


class QuantizationMismatch(ValueError):
    """The requested quantization contradicts what the checkpoint is."""


@dataclass(frozen=True)
class QuantizationInfo:
    """What a checkpoint is. ``method`` is None for a float checkpoint."""

    method: str | None
    bits: int | None = None
    scheme: str | None = None  # e.g. W4A16, W8A8-INT8, FP8-DYNAMIC
    source: str = "none"  # "config", "name" or "none"

    @property
    def is_quantized(self) -> bool:
        return self.method is not None

    def describe(self) -> str:
        if not self.is_quantized:
            return "float (not quantized)"
        parts = [self.method or "", self.scheme or (f"{self.bits}-bit" if self.bits else "")]
        return " ".join(p for p in parts if p) + f" (from {self.source})"


def _compressed_tensors_scheme(config: dict[str, Any]) -> tuple[int | None, str | None]:
    groups = config.get("config_groups") or {}
    for group in groups.values():
        weights = group.get("weights") or {}
        activations = group.get("input_activations") or None
        bits = weights.get("num_bits")
        wtype = weights.get("type", "int")
        if bits is None:
            continue
        abits = activations.get("num_bits") if activations else None
        atype = activations.get("type", "int") if activations else None
        if wtype == "float" and int(bits) == 4:
            # FP4 (e2m1) weights with group scales: NVFP4, or NVFP4A16 with 16-bit activations
            return 4, "NVFP4" if abits == 4 else "NVFP4A16"
        if activations is None:
            return int(bits), f"FP{bits}-W{bits}A16" if wtype == "float" else f"W{bits}A16"
        if wtype == "float" and atype == "float":
            dynamic = "DYNAMIC" if activations.get("dynamic") else "STATIC"
            return int(bits), f"FP{bits}-{dynamic}"
        return int(bits), f"W{bits}A{abits}-{str(atype).upper()}{abits}"
    fmt = config.get("format")
    return None, str(fmt) if fmt else None


def info_from_config(quant_config: dict[str, Any]) -> QuantizationInfo:
    method = str(quant_config.get("quant_method", "")).lower().replace("_", "-")
    if not method:
        return QuantizationInfo(method=None)
    if method == "compressed-tensors":
        bits, scheme = _compressed_tensors_scheme(quant_config)
        return QuantizationInfo("compressed-tensors", bits, scheme, "config")
    if method in {"awq", "gptq", "auto-round", "autoround"}:
        bits = quant_config.get("bits") or quant_config.get("w_bit") or 4
        name = "auto-round" if method.startswith("auto") else method
        return QuantizationInfo(name, int(bits), f"W{int(bits)}A16", "config")
    if method == "fp8":
        return QuantizationInfo("fp8", 8, "FP8", "config")
    if method in {"modelopt", "modelopt-fp4"}:
        algo = str(quant_config.get("quant_algo", "")).upper()
        if "FP4" in algo:
            return QuantizationInfo("modelopt_fp4", 4, "NVFP4", "config")
        return QuantizationInfo("modelopt", 8, algo or None, "config")
    if method == "bitsandbytes":
        bits = 4 if quant_config.get("load_in_4bit") else 8
        return QuantizationInfo("bitsandbytes", bits, None, "config")
    if method == "gguf":
        return QuantizationInfo("gguf", None, None, "config")
    return QuantizationInfo(method, quant_config.get("bits"), None, "config")


def info_from_name(name: str) -> QuantizationInfo:
    lowered = name.lower()
    for marker, (method, bits) in NAME_MARKERS.items():
        if re.search(rf"(^|[^a-z0-9]){re.escape(marker)}([^a-z0-9]|$)", lowered):
            return QuantizationInfo(method, bits, None, "name")
    return QuantizationInfo(method=None)


def detect(model_dir: Path | str) -> QuantizationInfo:
    """Inspect a local checkpoint folder (config first, then its name as a hint)."""
    folder = Path(model_dir)
    config_path = folder / "config.json"
    if config_path.is_file():
        try:
            config = json.loads(config_path.read_text())
        except ValueError as exc:
            raise ValueError(f"{config_path} is not valid JSON: {exc}") from None
        quant_config = config.get("quantization_config") or config.get("compression_config")
        if isinstance(quant_config, dict):
            found = info_from_config(quant_config)
            if found.is_quantized:
                return found
        # A config without quantization_config is a float checkpoint, whatever its name says.
        return QuantizationInfo(method=None)
    return info_from_name(folder.name)


def resolve_request(requested: str, info: QuantizationInfo) -> str | None:
    """The ``quantization`` argument for vLLM, or raise if the request contradicts the checkpoint.

    ``requested`` is ``auto`` (serve as it is), ``none``, ``4bit``/``8bit`` (what the operator
    expects the checkpoint to be) or an explicit vLLM method name.
    """
    request = REQUEST_ALIASES.get(requested.strip().lower(), requested.strip().lower())
    if request == "auto":
        return None  # vLLM reads quantization_config itself and picks the best kernel
    if request == "none":
        if info.is_quantized:
            raise QuantizationMismatch(
                f"QUANTIZATION=none but the checkpoint is {info.describe()}; "
                "use QUANTIZATION=auto to serve it as it is"
            )
        return None
    if request in BITS_REQUESTS:
        bits = BITS_REQUESTS[request]
        if not info.is_quantized:
            raise QuantizationMismatch(
                f"QUANTIZATION={request} but the checkpoint is float; export it first with "
                f"`python -m quantize --scheme ...` (or let the run command do it) and serve the "
                "export"
            )
        # A name marker is only a hint: it never refuses a request on its own.
        if info.source == "config" and info.bits is not None and info.bits != bits:
            raise QuantizationMismatch(
                f"QUANTIZATION={request} but the checkpoint is already {info.describe()}; "
                f"ask for {info.bits}bit or auto"
            )
        return None
    if info.is_quantized and info.method not in {request, None} and info.source == "config":
        compatible = {"awq": {"awq_marlin"}, "gptq": {"gptq_marlin"}}.get(info.method or "", set())
        if request not in compatible:
            raise QuantizationMismatch(
                f"QUANTIZATION={request} but the checkpoint is {info.describe()}"
            )
    return request
