"""The ``turn_prompt`` step of the ``chat_turn`` ensemble: a Yap turn as chat-model inputs.

It builds the message list exactly as the bridge does (system prompt, parsed history,
current utterance, same-role messages merged) and the turn's sampling parameters with Yap's
defaults (sampling values, stop strings, phrase bias), so a plain Triton client gets the same
generation as a WebSocket client.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from common.generation import DEFAULT_PHRASE_BIAS, chat_sampling
from common.history import HistoryTurn, build_chat_messages, parse_history_text

DEFAULT_SAMPLING: dict[str, Any] = {
    "temperature": 0.8,
    "top_p": 0.95,
    "top_k": 30,
    "min_p": 0.0,
    "repetition_penalty": 1.0,
    "presence_penalty": 0.0,
    "frequency_penalty": 0.0,
}


class TurnError(ValueError):
    pass


def build_turn(
    system_prompt: str,
    history_text: str,
    user_utterance: str,
    sampling_json: str,
    *,
    max_tokens: int = 150,
) -> tuple[str, str]:
    """(messages JSON, sampling_parameters JSON) of one turn."""
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
    wanted = {**DEFAULT_SAMPLING, **overrides}
    sampling = chat_sampling(
        {
            k: v
            for k, v in wanted.items()
            if k not in {"max_tokens", "stop", "priority", "phrase_bias"}
        },
        max_tokens=int(wanted.get("max_tokens", max_tokens)),
        phrase_bias=wanted.get("phrase_bias", DEFAULT_PHRASE_BIAS),
    )
    return json.dumps([m.to_dict() for m in messages]), json.dumps(sampling)
