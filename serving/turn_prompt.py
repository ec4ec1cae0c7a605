"""The ``turn_prompt`` step of the ``chat_turn`` ensemble: a Yap turn as chat-model inputs.

It builds the message list exactly as the bridge does (system prompt, parsed history,
current utterance, same-role messages merged) and the turn's sampling parameters from the same
settings as the bridge (``common.generation``: ``CHAT_MAX_OUT``, the ``CHAT_<KEY>`` sampling
defaults and ranges, ``CHAT_LOGIT_BIAS_FILE``), so a plain Triton client gets the same
generation as a WebSocket client.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common.generation import (
    CHAT_LOGIT_BIAS_FILE,
    CHAT_MAX_OUT,
    GENERATION_SETTINGS,
    SAMPLING_KEYS,
    coerce_sampling_value,
    load_phrase_bias,
    sampling_defaults,
    sampling_problems,
    turn_sampling,
)
from common.history import HistoryTurn, build_chat_messages, parse_history_text
from common.settings import SettingsError, resolve

# Keys of the client's sampling_parameters that the turn itself decides or takes by name.
_TURN_KEYS = frozenset({"max_tokens", "stop", "priority", "phrase_bias"})


class TurnError(ValueError):
    pass


@dataclass(frozen=True)
class TurnDefaults:
    """What a turn generates with when the client asks for nothing else."""

    sampling: dict[str, Any]
    max_tokens: int
    phrase_bias: dict[str, float]
    #: The accepted range of each §14 key (``CHAT_<KEY>_MIN`` / ``_MAX``), as in the bridge.
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        parameters: Mapping[str, str],
        environ: Mapping[str, str] = os.environ,
        *,
        model_name: str = "turn_prompt",
    ) -> TurnDefaults:
        found = resolve(
            GENERATION_SETTINGS, parameters, environ, model_name=model_name, check=sampling_problems
        )
        try:
            phrase_bias = load_phrase_bias(found[CHAT_LOGIT_BIAS_FILE.key])
        except ValueError as exc:
            raise SettingsError(f"model '{model_name}' has bad settings: {exc}") from None
        ranges = {
            key: (found.values[f"chat_{key}_min"], found.values[f"chat_{key}_max"])
            for key, _kind in SAMPLING_KEYS
        }
        return cls(sampling_defaults(found.values), found[CHAT_MAX_OUT.key], phrase_bias, ranges)


def _number(key: str, value: Any, kind: type[int] | type[float]) -> float:
    """A JSON number of the key's kind (the bridge's coercion, minus numeric strings)."""
    try:
        if isinstance(value, str):
            raise TypeError("a string is not a number here")
        return coerce_sampling_value(value, kind)
    except (TypeError, ValueError, OverflowError):
        raise TurnError(f"{key} must be a valid {kind.__name__}") from None


def check_overrides(overrides: Mapping[str, Any], defaults: TurnDefaults) -> dict[str, Any]:
    """The client's §14 overrides checked against the configured ranges (the bridge's rule:
    out of range is rejected, not clamped); ``max_tokens`` a positive integer, capped at
    ``CHAT_MAX_OUT``; ``phrase_bias`` an object of numbers. Other keys pass through to the chat
    model, which checks them itself."""
    checked: dict[str, Any] = {}
    kinds = dict(SAMPLING_KEYS)
    for key, value in overrides.items():
        if value is None:
            continue
        if key in kinds:
            number = _number(key, value, kinds[key])
            low, high = defaults.ranges.get(key, (-math.inf, math.inf))
            if not low <= number <= high:  # False for NaN
                raise TurnError(f"{key} must be between {low} and {high}")
            checked[key] = number
        elif key == "max_tokens":
            tokens = _number(key, value, int)
            if tokens < 1:
                raise TurnError("max_tokens must be a positive integer")
            checked[key] = min(int(tokens), defaults.max_tokens)
        elif key == "phrase_bias":
            if not isinstance(value, Mapping) or not all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in value.values()
            ):
                raise TurnError("phrase_bias must be an object of text to number")
            checked[key] = {str(k): float(v) for k, v in value.items()}
        else:
            checked[key] = value
    return checked


def build_turn(
    system_prompt: str,
    history_text: str,
    user_utterance: str,
    sampling_json: str,
    defaults: TurnDefaults | None = None,
) -> tuple[str, str]:
    """(messages JSON, sampling_parameters JSON) of one turn (``defaults``: the declared ones)."""
    if defaults is None:
        defaults = TurnDefaults.resolve({}, {})
    try:
        overrides = json.loads(sampling_json) if sampling_json.strip() else {}
    except ValueError as exc:
        raise TurnError(f"sampling_parameters is not valid JSON: {exc}") from None
    if not isinstance(overrides, Mapping):
        raise TurnError("sampling_parameters must be a JSON object")
    overrides = check_overrides(overrides, defaults)
    turns = [
        HistoryTurn(turn_id=index, user=user, assistant=assistant)
        for index, (user, assistant) in enumerate(parse_history_text(history_text))
    ]
    messages = build_chat_messages(system_prompt, turns, user_utterance)
    if not messages:
        raise TurnError("the turn is empty: give a system_prompt, history_text or user_utterance")
    sampling = turn_sampling(
        defaults.sampling,
        {key: value for key, value in overrides.items() if key not in _TURN_KEYS},
        max_tokens=int(overrides.get("max_tokens", defaults.max_tokens)),
        phrase_bias=overrides.get("phrase_bias", defaults.phrase_bias),
    )
    return json.dumps([m.to_dict() for m in messages]), json.dumps(sampling)
