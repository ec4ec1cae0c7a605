"""API key checks of the WebSocket handshake (docs/protocol.md §2, decision 3).

The key is read from the ``api_key`` query parameter; when that is missing or empty, from the
``X-API-Key`` header; then (an addition of this project) from ``Authorization: Bearer <key>``.
Header names are case-insensitive. Keys are compared in constant time.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping

_BEARER = "bearer "


def _header(headers: Mapping[str, str] | Iterable[tuple[str, str]], name: str) -> str | None:
    items = headers.items() if isinstance(headers, Mapping) else headers
    wanted = name.lower()
    for key, value in items:
        if key.lower() == wanted:
            return value
    return None


def provided_api_key(
    query: Mapping[str, str],
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
) -> str | None:
    """The key the client presented, or None."""
    from_query = query.get("api_key")
    if from_query:
        return from_query
    from_header = _header(headers, "x-api-key")
    if from_header:
        return from_header
    authorization = _header(headers, "authorization") or ""
    if authorization[: len(_BEARER)].lower() == _BEARER:
        token = authorization[len(_BEARER) :].strip()
        return token or None
    return None


def api_key_matches(provided: str | None, expected: str) -> bool:
    """Constant-time comparison; an absent or empty key never matches."""
    if not provided or not expected:
        return False
    return hmac.compare_digest(provided.encode(), expected.encode())
