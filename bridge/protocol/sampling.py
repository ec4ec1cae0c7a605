"""Per-turn sampling overrides of a ``start`` (docs/protocol.md §14).

The overrides come from ``msg.sampling``, else ``msg.sampling_params`` (the first truthy one),
and each key falls back to a top-level field of the same name; ``null`` counts as absent.

Coercion: floats accept numbers and numeric strings; ``top_k`` accepts ints, integral floats
and int strings; booleans are never numbers. Values outside the configured inclusive range are
rejected, not clamped; NaN and infinities fail the range check (as does an integer too large
to be a float). ``sanitize_output`` must be a JSON boolean.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bridge.protocol import errors
from bridge.protocol.config import BridgeConfig
from bridge.protocol.errors import ErrorCode, ProtocolError
from common.generation import SAMPLING_KEYS, coerce_sampling_value


@dataclass(frozen=True, slots=True)
class SamplingOverrides:
    """The overrides a client asked for; None means "use the server default"."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    sanitize_output: bool | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def sanitizes_output(self) -> bool:
        """Whether chat output goes through the output cleaner (default: yes)."""
        return self.sanitize_output is not False

    def sampling_parameters(self) -> dict[str, float | int]:
        """The numeric overrides that were given, by §14 key (for the chat request)."""
        chosen: dict[str, float | int] = {}
        for key, _kind in SAMPLING_KEYS:
            value = getattr(self, key)
            if value is not None:
                chosen[key] = value
        return chosen


def _invalid_code(key: str) -> ErrorCode:
    return ErrorCode(f"invalid_{key}")


def _range_code(key: str) -> ErrorCode:
    return ErrorCode(f"{key}_out_of_range")


def parse_sampling_overrides(
    message: Mapping[str, Any], config: BridgeConfig
) -> SamplingOverrides | ProtocolError | None:
    """Validate the sampling overrides of a ``start`` (chat deployed only).

    Returns None when the message has no overrides at all, which resets the session's stored
    overrides to the defaults.
    """
    block = message.get("sampling") or message.get("sampling_params") or {}
    if not isinstance(block, dict):
        return errors.start_rejected(
            ErrorCode.INVALID_SAMPLING_PAYLOAD, errors.SAMPLING_NOT_AN_OBJECT
        )

    def lookup(key: str) -> Any:
        value = block.get(key)
        return message.get(key) if value is None else value

    chosen: dict[str, Any] = {}
    for key, kind in SAMPLING_KEYS:
        raw = lookup(key)
        if raw is None:
            continue
        minimum, maximum = config.sampling_range(key)
        try:
            value: float = coerce_sampling_value(raw, kind)
        except OverflowError:
            return errors.start_rejected(
                _range_code(key), errors.sampling_out_of_range(key, minimum, maximum)
            )
        except (TypeError, ValueError):
            return errors.start_rejected(_invalid_code(key), errors.sampling_invalid(key, kind))
        if not minimum <= value <= maximum:  # False for NaN
            return errors.start_rejected(
                _range_code(key), errors.sampling_out_of_range(key, minimum, maximum)
            )
        chosen[key] = value

    sanitize = lookup("sanitize_output")
    if sanitize is not None:
        if not isinstance(sanitize, bool):
            return errors.start_rejected(
                ErrorCode.INVALID_SANITIZE_OUTPUT, errors.SANITIZE_OUTPUT_NOT_A_BOOLEAN
            )
        chosen["sanitize_output"] = sanitize

    overrides = SamplingOverrides(**chosen)
    return None if overrides.is_empty else overrides
