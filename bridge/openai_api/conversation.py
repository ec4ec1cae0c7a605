"""OpenAI ``messages`` to the parts of a Yap turn: persona, history turns, the user text (pure).

- ``system`` and ``developer`` messages, joined with a blank line, are the persona (the Yap
  ``chat_prompt``), sanitised like one (§11.4).
- ``user`` and ``assistant`` messages become history turns, oldest first; consecutive messages
  of one role are merged, and an ``assistant`` message closes a turn. What a voice framework
  stores as the assistant's reply is what was spoken, so a barged-in reply stays truncated.
- A ``tool`` message is a screen analysis: like a Yap ``followup`` it becomes the user text
  ``"<SCREEN_CHECKED_PREFIX> <result>"``. When the conversation ends with one, the turn is a
  followup (no tool decision).
- The last message must be from the user or a tool; it is the utterance of this turn.

Only text content is supported: a string, or a list of ``{"type": "text"}`` parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bridge.openai_api import errors
from bridge.openai_api.errors import OpenAIError
from bridge.protocol.validation import InvalidPrompt, followup_utterance, sanitize_prompt

ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True, slots=True)
class Conversation:
    system_prompt: str | None
    history: tuple[tuple[str, str], ...]  # (user, assistant) pairs, oldest first
    user_text: str
    followup: bool  # the last message is a tool result: answer it, decide no tool


def _content_text(content: Any, where: str, *, nullable: bool) -> str | OpenAIError:
    if content is None:
        if nullable:
            return ""
        return errors.invalid(f"{where} is required", param=where)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for index, part in enumerate(content):
            at = f"{where}[{index}]"
            if not isinstance(part, dict):
                return errors.invalid(f"{at} must be an object", param=at)
            kind = part.get("type")
            if kind != "text":
                return errors.invalid(
                    f"{at} has type {kind!r}: only text content is supported "
                    "(no images, audio or files)",
                    param=at,
                    code="unsupported_content",
                )
            text = part.get("text")
            if not isinstance(text, str):
                return errors.invalid(f"{at}.text must be a string", param=f"{at}.text")
            texts.append(text)
        return "\n".join(texts)
    return errors.invalid(
        f"{where} must be a string or a list of text parts, got {type(content).__name__}",
        param=where,
    )


def read_conversation(
    messages: Any, *, screen_checked_prefix: str, prompt_max_chars: int
) -> Conversation | OpenAIError:
    if not isinstance(messages, list) or not messages:
        return errors.invalid(
            '\'messages\' must be a non-empty list of {"role", "content"} objects',
            param="messages",
        )
    system: list[str] = []
    pairs: list[tuple[str, str]] = []
    user: list[str] = []
    last_role = ""
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            return errors.invalid(f"{where} must be an object", param=where)
        role = message.get("role")
        if role not in ROLES:
            return errors.invalid(
                f"{where}.role must be one of {', '.join(ROLES)}, got {role!r}",
                param=f"{where}.role",
            )
        text = _content_text(
            message.get("content"), f"{where}.content", nullable=role == "assistant"
        )
        if isinstance(text, OpenAIError):
            return text
        last_role = role
        if role in ("system", "developer"):
            if text.strip():
                system.append(text.strip())
        elif role == "user":
            user.append(text.strip())
        elif role == "tool":
            user.append(followup_utterance(screen_checked_prefix, text.strip()))
        else:  # assistant: closes the turn (its tool_calls are the tool decision, not text)
            pairs.append(("\n\n".join(u for u in user if u), text.strip()))
            user = []
    if last_role not in ("user", "tool"):
        return errors.invalid(
            f"the last message must be from the user or a tool result, not {last_role!r}",
            param=f"messages[{len(messages) - 1}].role",
        )
    persona: str | None = None
    if system:
        try:
            persona = sanitize_prompt("\n\n".join(system), prompt_max_chars)
        except InvalidPrompt as exc:
            return errors.invalid(
                f"the system prompt was rejected: {exc}", param="messages", code="invalid_prompt"
            )
    return Conversation(
        system_prompt=persona,
        history=tuple(pairs),
        user_text="\n\n".join(u for u in user if u),
        followup=last_role == "tool",
    )


def offered_tools(tools: Sequence[Any]) -> tuple[str, ...] | OpenAIError:
    """The function names a request offers (``tools``), checked for OpenAI's shape."""
    names = []
    for index, tool in enumerate(tools):
        where = f"tools[{index}]"
        if not isinstance(tool, dict) or tool.get("type") != "function":
            return errors.invalid(f'{where} must be {{"type": "function", ...}}', param=where)
        function = tool.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or not name:
            return errors.invalid(f"{where}.function.name is required", param=where)
        names.append(name)
    return tuple(names)
