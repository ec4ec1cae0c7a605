"""The ``turn_prompt`` step of the ``chat_turn`` ensemble: a Yap turn as chat-model inputs.

It builds the message list exactly as the bridge does (system prompt, parsed history,
current utterance, same-role messages merged) and the turn's sampling parameters from the same
settings as the bridge (``common.generation``: ``CHAT_MAX_OUT``, the ``CHAT_<KEY>`` sampling
defaults and ranges, ``CHAT_LOGIT_BIAS_FILE``), so a plain Triton client gets the same
generation as a WebSocket client.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.generation import (
    CHAT_LOGIT_BIAS_FILE,
    CHAT_MAX_OUT,
    GENERATION_SETTINGS,
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
        return cls(sampling_defaults(found.values), found[CHAT_MAX_OUT.key], phrase_bias)


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
