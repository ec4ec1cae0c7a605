"""Export schemes: names and aliases, the 4bit/8bit defaults, and the group-size fallback."""

from __future__ import annotations

import pytest

from quantize import schemes
from quantize.export import ExportOptions

SMOLLM2_WIDTHS = [576, 576, 576, 576, 576, 576, 1536]  # q/k/v/o, gate/up inputs, down_proj input


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("awq", "awq-w4a16"),
        ("GPTQ", "gptq-w4a16"),
        ("w4a16", "gptq-w4a16"),
        ("fp8", "fp8-dynamic"),
        ("int8", "int8-w8a8"),
        ("w8a8", "int8-w8a8"),
        (" fp8-dynamic ", "fp8-dynamic"),
    ],
)
def test_names_and_aliases(name: str, canonical: str) -> None:
    assert schemes.get_scheme(name).name == canonical


def test_unknown_scheme_lists_the_choices() -> None:
    with pytest.raises(schemes.SchemeError, match=r"unknown quantization scheme 'int4'.*awq-w4a16"):
        schemes.get_scheme("int4")


def test_four_formats_with_their_presets() -> None:
    found = {
        s.name: (s.bits, s.method, s.preset, s.needs_calibration) for s in schemes.SCHEMES.values()
    }
    assert found == {
        "awq-w4a16": (4, "awq", "W4A16_ASYM", True),
        "gptq-w4a16": (4, "gptq", "W4A16", True),
        "fp8-dynamic": (8, "rtn", "FP8_DYNAMIC", False),
        "int8-w8a8": (8, "rtn", "W8A8", False),
    }


def test_bits_requests_pick_by_hardware() -> None:
    assert schemes.scheme_for_bits("4bit", fp8_capable=False).name == "gptq-w4a16"
    assert schemes.scheme_for_bits("4bit", fp8_capable=True).name == "gptq-w4a16"
    assert schemes.scheme_for_bits("8bit", fp8_capable=True).name == "fp8-dynamic"
    assert schemes.scheme_for_bits("8BIT", fp8_capable=False).name == "int8-w8a8"
    with pytest.raises(schemes.SchemeError, match="expected 4bit or 8bit"):
        schemes.scheme_for_bits("2bit", fp8_capable=False)


def test_group_size_kept_when_it_divides_every_width() -> None:
    choice = schemes.choose_group_size(128, [4096, 14336])
    assert (choice.used, choice.fell_back, choice.reason) == (128, False, None)


def test_group_size_falls_back_for_smollm2_and_says_why() -> None:
    choice = schemes.choose_group_size(128, SMOLLM2_WIDTHS)
    assert choice.used == 64 and choice.fell_back
    assert choice.reason is not None
    assert "128 does not divide layer width(s) 576" in choice.reason
    assert "using 64" in choice.reason


def test_group_size_falls_back_to_32_when_64_does_not_divide() -> None:
    assert schemes.choose_group_size(128, [96 * 7, 4096]).used == 32


def test_group_size_without_a_servable_divisor_is_an_error() -> None:
    with pytest.raises(schemes.SchemeError, match="pass --group-size with a divisor of 100"):
        schemes.choose_group_size(128, [100])


@pytest.mark.parametrize("bad", [0, -64])
def test_group_size_must_be_positive(bad: int) -> None:
    with pytest.raises(schemes.SchemeError, match="positive integer"):
        schemes.choose_group_size(bad, [4096])


def test_a_smaller_request_that_divides_is_kept() -> None:
    assert schemes.choose_group_size(32, SMOLLM2_WIDTHS).used == 32


def test_no_linear_layers_is_an_error() -> None:
    with pytest.raises(schemes.SchemeError, match="no quantizable Linear layers"):
        schemes.choose_group_size(128, [])


def test_scheme_config_carries_the_chosen_group_size() -> None:
    pytest.importorskip("compressed_tensors")
    awq = schemes.scheme_config(schemes.SCHEMES["awq-w4a16"], 64)["group_0"]
    assert awq.weights.group_size == 64 and awq.weights.symmetric is False
    assert awq.input_activations is None
    gptq = schemes.scheme_config(schemes.SCHEMES["gptq-w4a16"], 32)["group_0"]
    assert gptq.weights.group_size == 32 and gptq.weights.symmetric is True
    int8 = schemes.scheme_config(schemes.SCHEMES["int8-w8a8"], None)["group_0"]
    assert int8.weights.num_bits == 8 and int8.input_activations.dynamic is True
    with pytest.raises(schemes.SchemeError, match="needs a group size"):
        schemes.scheme_config(schemes.SCHEMES["gptq-w4a16"], None)


def test_only_relevant_options_reach_the_cache_key() -> None:
    options = ExportOptions(group_size=64, samples=32)
    assert options.relevant_to(schemes.SCHEMES["int8-w8a8"]) == {}
    assert options.relevant_to(schemes.SCHEMES["gptq-w4a16"]) == {
        "group_size": 64,
        "calibration": "shipped",
        "samples": 32,
        "seq_len": 512,
        "seed": 0,
    }
