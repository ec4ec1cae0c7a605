"""The four export schemes, their llmcompressor recipes, and the group-size fallback.

Pure data and arithmetic; ``build_recipe`` is the only function that imports llmcompressor,
and it does so lazily so that the rest can be used (and unit-tested) without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

DEFAULT_GROUP_SIZE = 128
# Group sizes vLLM's GPU 4-bit kernels (Marlin) take; its CPU kernel takes any even size.
# Smaller groups would be legal for llmcompressor but unsupported or slow to serve.
SERVABLE_GROUP_SIZES = (128, 64, 32)
IGNORED_MODULES = ("lm_head",)  # the output head stays in full precision (tied to embeddings)


class SchemeError(ValueError):
    """An unknown scheme, or options that cannot make a valid recipe."""


@dataclass(frozen=True)
class Scheme:
    """One export format: what it is called, what it stores, how llmcompressor makes it."""

    name: str  # canonical id, used in cache keys and folder names
    bits: int
    method: str  # awq, gptq or rtn (round-to-nearest, no calibration data)
    preset: str  # compressed-tensors preset scheme name
    needs_calibration: bool
    grouped: bool  # 4-bit schemes quantize weights in groups along the input dimension
    summary: str

    @property
    def label(self) -> str:
        return {
            "awq-w4a16": "AWQ W4A16",
            "gptq-w4a16": "GPTQ W4A16",
            "fp8-dynamic": "FP8 dynamic",
            "int8-w8a8": "INT8 W8A8",
        }.get(self.name, self.name)


SCHEMES: dict[str, Scheme] = {
    scheme.name: scheme
    for scheme in (
        Scheme(
            "awq-w4a16",
            4,
            "awq",
            "W4A16_ASYM",
            True,
            True,
            "4-bit integer weights (asymmetric, grouped), 16-bit activations; AWQ scales",
        ),
        Scheme(
            "gptq-w4a16",
            4,
            "gptq",
            "W4A16",
            True,
            True,
            "4-bit integer weights (symmetric, grouped), 16-bit activations; GPTQ rounding",
        ),
        Scheme(
            "fp8-dynamic",
            8,
            "rtn",
            "FP8_DYNAMIC",
            False,
            False,
            "FP8 e4m3 weights per channel, FP8 activations scaled per token at run time",
        ),
        Scheme(
            "int8-w8a8",
            8,
            "rtn",
            "W8A8",
            False,
            False,
            "INT8 weights per channel, INT8 activations scaled per token at run time",
        ),
    )
}
ALIASES = {
    "awq": "awq-w4a16",
    "gptq": "gptq-w4a16",
    "w4a16": "gptq-w4a16",
    "fp8": "fp8-dynamic",
    "fp8_dynamic": "fp8-dynamic",
    "int8": "int8-w8a8",
    "w8a8": "int8-w8a8",
    "int8_w8a8": "int8-w8a8",
}


def get_scheme(name: str) -> Scheme:
    """The scheme called ``name`` (canonical id or alias, any case)."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in SCHEMES:
        known = ", ".join(sorted(SCHEMES)) + " (aliases: " + ", ".join(sorted(ALIASES)) + ")"
        raise SchemeError(f"unknown quantization scheme {name!r}; choose one of {known}")
    return SCHEMES[key]


def scheme_for_bits(request: str, *, fp8_capable: bool) -> Scheme:
    """The export the run command makes for ``QUANTIZATION=4bit|8bit`` on a float checkpoint.

    4-bit is GPTQ: on the embedded model it lost less perplexity than AWQ (+8% against +20%,
    quantize/README.md) and exported four times faster; vLLM serves both with the same kernels.
    8-bit is FP8 where the hardware has FP8 GEMMs (GPUs with compute capability >= 8.9), INT8
    W8A8 elsewhere: vLLM CPU runs FP8 weights through an emulated path (3 tokens/s against 22
    for INT8 in the table).
    """
    key = request.strip().lower()
    if key == "4bit":
        return SCHEMES["gptq-w4a16"]
    if key == "8bit":
        return SCHEMES["fp8-dynamic" if fp8_capable else "int8-w8a8"]
    raise SchemeError(f"expected 4bit or 8bit, got {request!r}")


@dataclass(frozen=True)
class GroupSizeChoice:
    """The group size a 4-bit export uses, and why it differs from the one asked for."""

    requested: int
    used: int
    reason: str | None = None  # None when ``used == requested``

    @property
    def fell_back(self) -> bool:
        return self.used != self.requested


def choose_group_size(requested: int, widths: Iterable[int]) -> GroupSizeChoice:
    """``requested`` if it divides every quantized layer's input width, else the largest
    servable group size below it that does.

    ``widths`` are the input features of the Linear layers that get quantized (e.g. SmolLM2:
    576 for attention and MLP inputs, 1536 for ``down_proj``: 128 divides neither 576, 64 does).
    """
    if requested < 1:
        raise SchemeError(f"group size must be a positive integer, got {requested}")
    found = sorted(set(widths))
    if not found:
        raise SchemeError("no quantizable Linear layers found (is this a causal LM checkpoint?)")
    if all(width % requested == 0 for width in found):
        return GroupSizeChoice(requested, requested)
    odd = [width for width in found if width % requested]
    for candidate in SERVABLE_GROUP_SIZES:
        if candidate < requested and all(width % candidate == 0 for width in found):
            return GroupSizeChoice(
                requested,
                candidate,
                f"group size {requested} does not divide layer width(s) "
                f"{', '.join(map(str, odd))}; using {candidate}, the largest servable group "
                f"size ({', '.join(map(str, SERVABLE_GROUP_SIZES))}) that divides all of "
                f"{', '.join(map(str, found))}",
            )
    raise SchemeError(
        f"group size {requested} does not divide layer width(s) {', '.join(map(str, odd))}, "
        f"and neither does any smaller servable group size "
        f"({', '.join(map(str, SERVABLE_GROUP_SIZES))}); pass --group-size with a divisor of "
        f"{', '.join(map(str, found))}"
    )


def scheme_config(scheme: Scheme, group_size: int | None) -> dict[str, Any]:
    """The compressed-tensors scheme as plain data: the preset, with our group size."""
    from compressed_tensors.quantization import QuantizationScheme
    from compressed_tensors.quantization.quant_scheme import preset_name_to_scheme

    preset: QuantizationScheme = preset_name_to_scheme(scheme.preset, ["Linear"])
    if scheme.grouped:
        if group_size is None:
            raise SchemeError(f"{scheme.name} needs a group size")
        assert preset.weights is not None
        preset = preset.model_copy(
            update={"weights": preset.weights.model_copy(update={"group_size": group_size})}
        )
    return {"group_0": preset}


def build_recipe(scheme: Scheme, group_size: int | None) -> list[Any]:
    """llmcompressor modifiers for ``scheme`` (imports llmcompressor)."""
    from llmcompressor.modifiers.quantization import GPTQModifier, QuantizationModifier

    config_groups = scheme_config(scheme, group_size)
    ignore = list(IGNORED_MODULES)
    if scheme.method == "awq":
        from llmcompressor.modifiers.transform.awq import AWQModifier

        # AWQ only rescales channels; the quantization itself is the QuantizationModifier's.
        return [AWQModifier(), QuantizationModifier(config_groups=config_groups, ignore=ignore)]
    if scheme.method == "gptq":
        return [GPTQModifier(config_groups=config_groups, ignore=ignore)]
    return [QuantizationModifier(config_groups=config_groups, ignore=ignore)]
