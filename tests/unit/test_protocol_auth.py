"""API key extraction (query, X-API-Key, Authorization: Bearer) and comparison."""

from __future__ import annotations

import pytest

from bridge.protocol.auth import api_key_matches, provided_api_key


def test_query_parameter_wins() -> None:
    assert provided_api_key({"api_key": "q"}, {"X-API-Key": "h"}) == "q"


def test_empty_query_falls_back_to_the_header() -> None:
    assert provided_api_key({"api_key": ""}, {"x-api-key": "h"}) == "h"
    assert provided_api_key({}, [("X-Api-Key", "h2")]) == "h2"


def test_bearer_token_is_accepted() -> None:
    assert provided_api_key({}, {"Authorization": "Bearer tok"}) == "tok"
    assert provided_api_key({}, {"authorization": "bearer  tok "}) == "tok"
    assert provided_api_key({}, {"Authorization": "Basic dXNlcg=="}) is None
    assert provided_api_key({}, {"Authorization": "Bearer "}) is None
    assert provided_api_key({}, {"X-API-Key": "h", "Authorization": "Bearer t"}) == "h"


def test_no_key() -> None:
    assert provided_api_key({}, {}) is None
    assert provided_api_key({"other": "x"}, {"X-API-Key": ""}) is None


@pytest.mark.parametrize(
    ("provided", "expected", "matches"),
    [
        ("secret", "secret", True),
        ("secreT", "secret", False),
        ("secret ", "secret", False),
        ("", "secret", False),
        (None, "secret", False),
        ("", "", False),
        ("ключ", "ключ", True),
    ],
)
def test_api_key_matches(provided: str | None, expected: str, matches: bool) -> None:
    assert api_key_matches(provided, expected) is matches
