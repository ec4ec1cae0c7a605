"""A Pipecat context as the next Yap message (pure; no Pipecat, no sockets).

The context's messages are read with the same rules as the OpenAI endpoint
(``bridge.openai_api.conversation``): system messages (and the service's system instruction)
are the persona, earlier user/assistant messages the ``history_text`` (what the assistant
aggregator stored is what was spoken, so a barged-in reply is already cut where the user
stopped it), the last user message the ``user_utterance``. A context that ends with a tool
result answers a ``take_screenshot`` call: it becomes a ``followup`` with that result as the
``analysis_text`` when this socket's session is the one that asked for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bridge.openai_api.conversation import Conversation, read_conversation
from bridge.openai_api.errors import OpenAIError
from common.history import SessionHistory

DEFAULT_SCREEN_CHECKED_PREFIX = "ON THE SCREEN NOW:"


@dataclass(frozen=True)
class YapPersona:
    """The ``start`` fields a Pipecat app fixes once (docs/protocol.md §5.1)."""

    gender: str = "female"
    personality: str = "friendly"
    personalities: Mapping[str, Sequence[str]] | None = None
    sampling: Mapping[str, Any] | None = None
    screen_checked_prefix: str = DEFAULT_SCREEN_CHECKED_PREFIX
    extra: Mapping[str, Any] = field(default_factory=dict)  # any other start field


class ContextError(ValueError):
    """The context cannot be a Yap turn (the message says why)."""


def tool_result_text(content: Any) -> str:
    """Pipecat stores a function result as JSON text; a string result is unwrapped."""
    if isinstance(content, list):  # text parts
        content = "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        return json.dumps(content)
    try:
        decoded = json.loads(content)
    except ValueError:
        return content
    return decoded if isinstance(decoded, str) else content


def _plain(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """OpenAI-format messages only (provider-specific ones are skipped); tool results
    unwrapped so the analysis text reads as text."""
    out = []
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        item = dict(message)
        if item.get("role") == "tool":
            item["content"] = tool_result_text(item.get("content"))
        out.append(item)
    return out


def read_context(
    messages: Sequence[Any], system_instruction: str | None, persona: YapPersona
) -> Conversation:
    plain = _plain(messages)
    if system_instruction:
        plain.insert(0, {"role": "system", "content": system_instruction})
    conversation = read_conversation(
        plain, screen_checked_prefix=persona.screen_checked_prefix, prompt_max_chars=10**9
    )
    if isinstance(conversation, OpenAIError):
        raise ContextError(conversation.message)
    return conversation


def start_message(
    session_id: str, conversation: Conversation, persona: YapPersona
) -> dict[str, Any]:
    personalities = persona.personalities or {persona.personality: []}
    message: dict[str, Any] = {
        **persona.extra,
        "type": "start",
        "session_id": session_id,
        "gender": persona.gender,
        "personality": persona.personality,
        "personalities": {name: list(synonyms) for name, synonyms in personalities.items()},
        "history_text": SessionHistory().extended(conversation.history).render(),
        "user_utterance": conversation.user_text,
        "screen_checked_prefix": persona.screen_checked_prefix,
    }
    if conversation.system_prompt:
        message["chat_prompt"] = conversation.system_prompt
    if persona.sampling:
        message["sampling"] = dict(persona.sampling)
    return message


def next_message(
    messages: Sequence[Any],
    system_instruction: str | None,
    persona: YapPersona,
    *,
    session_id: str,
    session_on_socket: bool,
) -> dict[str, Any]:
    """``start`` for a user turn; ``followup`` for a tool result this socket's session asked
    for (after a reconnect the server forgot it, so the result goes in a ``start`` instead)."""
    conversation = read_context(messages, system_instruction, persona)
    if conversation.followup and session_on_socket and conversation.system_prompt:
        last = _plain(messages)[-1]
        return {"type": "followup", "analysis_text": str(last.get("content", ""))}
    return start_message(session_id, conversation, persona)
