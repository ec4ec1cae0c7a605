"""The personalities table of start (§5.1.2): checks in order, normalisation, lookups."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.protocol.errors import ErrorCode, ProtocolError
from bridge.protocol.personalities import PersonalityTable, validate_personalities


def validate(raw: Any, max_personalities: int = 50, max_synonyms: int = 10) -> Any:
    return validate_personalities(
        raw, max_personalities=max_personalities, max_synonyms=max_synonyms
    )


def reject(raw: Any, **limits: int) -> tuple[ErrorCode | None, str]:
    result = validate(raw, **limits)
    assert isinstance(result, ProtocolError), result
    assert result.close_code == 1008
    return result.error_code, result.message


def test_valid_table_is_normalised() -> None:
    table = validate({" Flirty ": ["Horny", " sexy "], "delulu": [], "Savage": ["no cap"]})
    assert table == PersonalityTable(
        (("flirty", ("horny", "sexy")), ("delulu", ()), ("savage", ("no cap",)))
    )
    assert table.names() == ("flirty", "delulu", "savage")
    assert table.canonical("horny") == "flirty"
    assert table.canonical("no cap") == "savage"
    assert table.canonical("delulu") == "delulu"
    assert table.canonical("anna") is None
    assert table.canonical("sexy") == "flirty"
    assert table.to_dict() == {
        "flirty": ["horny", "sexy"],
        "delulu": [],
        "savage": ["no cap"],
    }


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        (
            ["flirty"],
            ErrorCode.INVALID_PERSONALITIES_FORMAT,
            "personalities must be an object mapping personality names to synonym arrays",
        ),
        (
            "flirty",
            ErrorCode.INVALID_PERSONALITIES_FORMAT,
            "personalities must be an object mapping personality names to synonym arrays",
        ),
        (
            {},
            ErrorCode.EMPTY_PERSONALITIES,
            "personalities cannot be empty - at least one personality is required",
        ),
        (
            {" ": []},
            ErrorCode.INVALID_PERSONALITY_NAME,
            "personality names must be non-empty strings",
        ),
        (
            {"Flirty": [], "flirty ": []},
            ErrorCode.DUPLICATE_PERSONALITY,
            "duplicate personality name: 'flirty'",
        ),
        (
            {"flirty": ["horny"], "Horny": []},
            ErrorCode.DUPLICATE_PERSONALITY,
            "duplicate personality name: 'horny'",
        ),
        (
            {"flirty": "horny"},
            ErrorCode.INVALID_PERSONALITY_SYNONYMS,
            "synonyms for 'flirty' must be an array",
        ),
        (
            {"Flirty": None},
            ErrorCode.INVALID_PERSONALITY_SYNONYMS,
            "synonyms for 'flirty' must be an array",
        ),
        (
            {"flirty": [str(i) for i in range(11)]},
            ErrorCode.TOO_MANY_SYNONYMS,
            "personality 'flirty' cannot have more than 10 synonyms",
        ),
        (
            {"flirty": ["ok", " "]},
            ErrorCode.INVALID_PERSONALITY_SYNONYM,
            "synonyms for 'flirty' must be non-empty strings",
        ),
        (
            {"flirty": [5]},
            ErrorCode.INVALID_PERSONALITY_SYNONYM,
            "synonyms for 'flirty' must be non-empty strings",
        ),
        (
            {"flirty": ["hot", "HOT"]},
            ErrorCode.DUPLICATE_PERSONALITY_SYNONYM,
            "duplicate synonym 'hot' - already used as personality or synonym",
        ),
        (
            {"flirty": [], "savage": ["Flirty"]},
            ErrorCode.DUPLICATE_PERSONALITY_SYNONYM,
            "duplicate synonym 'flirty' - already used as personality or synonym",
        ),
        (
            {"flirty": ["flirty"]},
            ErrorCode.DUPLICATE_PERSONALITY_SYNONYM,
            "duplicate synonym 'flirty' - already used as personality or synonym",
        ),
    ],
)
def test_each_rule(raw: Any, code: ErrorCode, message: str) -> None:
    assert reject(raw) == (code, message)


def test_too_many_personalities_is_checked_before_the_entries() -> None:
    raw: dict[str, Any] = {f"p{'a' * i}": [] for i in range(51)}
    raw[" "] = "not even a list"
    assert reject(raw) == (
        ErrorCode.TOO_MANY_PERSONALITIES,
        "personalities cannot exceed 50 entries",
    )
    assert isinstance(validate({f"p{'a' * i}": [] for i in range(50)}), PersonalityTable)


def test_limits_are_configurable() -> None:
    assert reject({"a": [], "b": []}, max_personalities=1) == (
        ErrorCode.TOO_MANY_PERSONALITIES,
        "personalities cannot exceed 1 entries",
    )
    assert reject({"a": ["x", "y"]}, max_synonyms=1)[1] == (
        "personality 'a' cannot have more than 1 synonyms"
    )


def test_entries_are_checked_in_order() -> None:
    # The first bad entry decides, whatever comes after it.
    assert reject({"ok": "nope", "": []})[0] is ErrorCode.INVALID_PERSONALITY_SYNONYMS
    assert reject({"": [], "ok": "nope"})[0] is ErrorCode.INVALID_PERSONALITY_NAME
