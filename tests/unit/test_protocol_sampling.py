"""Sampling overrides of start (§14): lookup, coercion, ranges, NaN/inf/bool rules."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.config import SAMPLING_KEYS, BridgeConfig
from bridge.protocol.errors import ErrorCode, ProtocolError
from bridge.protocol.sampling import SamplingOverrides, parse_sampling_overrides

CONFIG = BridgeConfig.from_env({"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "1"})


def parse(message: dict[str, Any], config: BridgeConfig = CONFIG) -> SamplingOverrides | None:
    result = parse_sampling_overrides(message, config)
    assert not isinstance(result, ProtocolError), result
    return result


def reject(message: dict[str, Any], config: BridgeConfig = CONFIG) -> ProtocolError:
    result = parse_sampling_overrides(message, config)
    assert isinstance(result, ProtocolError), result
    assert result.close_code == 1008
    return result


def test_no_overrides_is_none() -> None:
    assert parse({}) is None
    assert parse({"sampling": {}}) is None
    assert parse({"sampling": None, "temperature": None}) is None


def test_values_from_the_block_and_the_top_level() -> None:
    overrides = parse({"sampling": {"temperature": 0.5}, "top_p": 0.9, "top_k": 10})
    assert overrides == SamplingOverrides(temperature=0.5, top_p=0.9, top_k=10)


def test_block_wins_over_top_level_and_null_falls_back() -> None:
    assert parse({"sampling": {"temperature": 0.5}, "temperature": 0.7}) == SamplingOverrides(
        temperature=0.5
    )
    assert parse({"sampling": {"temperature": None}, "temperature": 0.7}) == SamplingOverrides(
        temperature=0.7
    )


def test_sampling_params_is_used_when_sampling_is_falsy() -> None:
    assert parse({"sampling_params": {"min_p": 0.1}}) == SamplingOverrides(min_p=0.1)
    assert parse({"sampling": {}, "sampling_params": {"min_p": 0.1}}) == SamplingOverrides(
        min_p=0.1
    )
    assert parse({"sampling": 0, "sampling_params": {"min_p": 0.1}}) == SamplingOverrides(min_p=0.1)
    # A non-empty "sampling" hides "sampling_params" entirely.
    assert parse(
        {"sampling": {"top_k": 5}, "sampling_params": {"min_p": 0.1}}
    ) == SamplingOverrides(top_k=5)


@pytest.mark.parametrize("block", ["hot", 5, [1], True])
def test_a_non_object_block_is_rejected(block: Any) -> None:
    error = reject({"sampling": block})
    assert error.error_code is ErrorCode.INVALID_SAMPLING_PAYLOAD
    assert error.message == "sampling must be an object"
    assert reject({"sampling_params": block}).error_code is ErrorCode.INVALID_SAMPLING_PAYLOAD


@pytest.mark.parametrize(
    ("raw", "expected"), [(0.5, 0.5), (1, 1.0), ("0.5", 0.5), (" 1.2 ", 1.2), ("1e-1", 0.1)]
)
def test_float_coercions(raw: Any, expected: float) -> None:
    overrides = parse({"temperature": raw})
    assert overrides is not None
    assert overrides.temperature == expected
    assert isinstance(overrides.temperature, float)


@pytest.mark.parametrize("raw", [True, False, "", "  ", "warm", [0.5], {"v": 1}])
def test_invalid_floats(raw: Any) -> None:
    error = reject({"temperature": raw})
    assert error.error_code is ErrorCode.INVALID_TEMPERATURE
    assert error.message == "temperature must be a valid float"


@pytest.mark.parametrize(("raw", "expected"), [(5, 5), (5.0, 5), ("7", 7), (" 60 ", 60)])
def test_int_coercions(raw: Any, expected: int) -> None:
    overrides = parse({"top_k": raw})
    assert overrides is not None
    assert overrides.top_k == expected
    assert type(overrides.top_k) is int


@pytest.mark.parametrize("raw", [5.5, "5.0", "five", True, "", [5], float("inf"), float("nan")])
def test_invalid_ints(raw: Any) -> None:
    error = reject({"top_k": raw})
    assert error.error_code is ErrorCode.INVALID_TOP_K
    assert error.message == "top_k must be a valid int"


RANGES = [
    ("temperature", 0.0, 1.2, "temperature must be between 0.0 and 1.2"),
    ("top_p", 0.6, 1.0, "top_p must be between 0.6 and 1.0"),
    ("top_k", 0, 60, "top_k must be between 0 and 60"),
    ("min_p", 0.0, 0.2, "min_p must be between 0.0 and 0.2"),
    ("repetition_penalty", 1.0, 1.3, "repetition_penalty must be between 1.0 and 1.3"),
    ("presence_penalty", 0.0, 0.5, "presence_penalty must be between 0.0 and 0.5"),
    ("frequency_penalty", 0.0, 0.5, "frequency_penalty must be between 0.0 and 0.5"),
]


@pytest.mark.parametrize(("key", "low", "high", "message"), RANGES)
def test_ranges_are_inclusive_and_rejected_not_clamped(
    key: str, low: float, high: float, message: str
) -> None:
    assert getattr(parse({key: low}), key) == low
    assert getattr(parse({key: high}), key) == high
    step = 1 if key == "top_k" else 0.001
    for outside in (low - step, high + step):
        error = reject({"sampling": {key: outside}})
        assert error.error_code == ErrorCode(f"{key}_out_of_range")
        assert error.message == message
    assert reject({key: "x"}).error_code == ErrorCode(f"invalid_{key}")


@pytest.mark.parametrize("raw", [float("nan"), float("inf"), float("-inf"), "nan", "inf", 10**400])
def test_nan_infinity_and_huge_numbers_fail_the_range_check(raw: Any) -> None:
    error = reject({"temperature": raw})
    assert error.error_code is ErrorCode.TEMPERATURE_OUT_OF_RANGE
    assert error.message == "temperature must be between 0.0 and 1.2"


def test_huge_top_k_is_out_of_range() -> None:
    assert reject({"top_k": 10**400}).error_code is ErrorCode.TOP_K_OUT_OF_RANGE


def test_fields_are_checked_in_spec_order() -> None:
    error = reject({"top_p": 5, "temperature": 5, "top_k": "x", "sanitize_output": "no"})
    assert error.error_code is ErrorCode.TEMPERATURE_OUT_OF_RANGE
    error = reject({"frequency_penalty": 9, "top_k": "x", "sanitize_output": "no"})
    assert error.error_code is ErrorCode.INVALID_TOP_K
    error = reject({"frequency_penalty": 9, "sanitize_output": "no"})
    assert error.error_code is ErrorCode.FREQUENCY_PENALTY_OUT_OF_RANGE
    assert reject({"sanitize_output": "no"}).error_code is ErrorCode.INVALID_SANITIZE_OUTPUT


def test_bounds_come_from_the_environment() -> None:
    config = BridgeConfig.from_env(
        {
            "TEXT_API_KEY": "k",
            "MAX_CONCURRENT_CONNECTIONS": "1",
            "CHAT_TEMPERATURE_MAX": "2",
            "CHAT_TOP_K_MAX": "100",
        }
    )
    assert parse({"temperature": 1.5, "top_k": 90}, config) == SamplingOverrides(
        temperature=1.5, top_k=90
    )
    assert reject({"temperature": 2.5}, config).message == (
        "temperature must be between 0.0 and 2.0"
    )
    assert reject({"top_k": 101}, config).message == "top_k must be between 0 and 100"


@pytest.mark.parametrize("value", [True, False])
def test_sanitize_output(value: bool) -> None:
    overrides = parse({"sampling": {"sanitize_output": value}})
    assert overrides == SamplingOverrides(sanitize_output=value)
    assert overrides.sanitizes_output is value
    assert parse({"sanitize_output": value}) == SamplingOverrides(sanitize_output=value)


@pytest.mark.parametrize("raw", ["false", 0, 1, "true", [], {}])
def test_sanitize_output_must_be_a_json_boolean(raw: Any) -> None:
    error = reject({"sanitize_output": raw})
    assert error.error_code is ErrorCode.INVALID_SANITIZE_OUTPUT
    assert error.message == "sanitize_output must be a boolean"


def test_overrides_helpers() -> None:
    overrides = SamplingOverrides(temperature=0.3, top_k=5, sanitize_output=False)
    assert overrides.sampling_parameters() == {"temperature": 0.3, "top_k": 5}
    assert not overrides.is_empty
    assert SamplingOverrides().is_empty
    assert SamplingOverrides().sanitizes_output is True


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.lists(st.none())
)


@given(st.sampled_from([key for key, _ in SAMPLING_KEYS]), json_scalars)
def test_any_value_gives_a_valid_override_or_that_keys_error(key: str, raw: Any) -> None:
    result = parse_sampling_overrides({key: raw}, CONFIG)
    if isinstance(result, ProtocolError):
        assert result.error_code in {ErrorCode(f"invalid_{key}"), ErrorCode(f"{key}_out_of_range")}
    elif result is not None:
        value = getattr(result, key)
        low, high = CONFIG.sampling_range(key)
        assert low <= value <= high
        assert not math.isnan(value)
    else:
        assert raw is None
