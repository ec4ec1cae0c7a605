"""Chat Completions replies: streamed chunks, the whole reply, usage and SSE framing (pure).

A turn's tool decision comes first: a "yes" for an offered tool is a ``tool_calls`` delta before
any text; the spoken text that follows is ``content``, and the reply's ``finish_reason`` is then
``tool_calls``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

DONE_EVENT = b"data: [DONE]\n\n"


def sse(payload: dict[str, Any]) -> bytes:
    """One server-sent event carrying a JSON object."""
    return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


@dataclass(frozen=True, slots=True)
class ToolCallOut:
    call_id: str
    name: str
    arguments: dict[str, Any]

    def to_dict(self, index: int | None = None) -> dict[str, Any]:
        call: dict[str, Any] = {
            "id": self.call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": json.dumps(self.arguments)},
        }
        if index is not None:
            call = {"index": index, **call}
        return call


def tool_calls_from_raw(raw: Any, offered: Sequence[str]) -> list[ToolCallOut]:
    """The offered tools among a ``toolcall`` frame's ``raw`` list (§12.4)."""
    calls: list[ToolCallOut] = []
    if not isinstance(raw, list):
        return calls
    for entry in raw:
        if isinstance(entry, dict) and entry.get("name") in offered:
            arguments = {k: v for k, v in entry.items() if k != "name"}
            calls.append(ToolCallOut(f"call_{uuid.uuid4().hex[:24]}", entry["name"], arguments))
    return calls


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def finish_reason(engine_reason: Any, tool_calls: Sequence[ToolCallOut]) -> str:
    if tool_calls:
        return "tool_calls"
    return "length" if engine_reason == "length" else "stop"


@dataclass
class CompletionIds:
    """What every chunk of one reply repeats."""

    model: str
    completion_id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))

    def chunk(
        self,
        delta: dict[str, Any] | None,
        finish: str | None = None,
        *,
        usage_block: dict[str, int] | None = None,
    ) -> dict[str, Any]:
        """One ``chat.completion.chunk``; ``delta=None`` makes the usage-only final chunk."""
        choices = (
            []
            if delta is None
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        body: dict[str, Any] = {
            "id": self.completion_id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if usage_block is not None or delta is None:
            body["usage"] = usage_block
        return body

    def completion(
        self,
        text: str,
        tool_calls: Sequence[ToolCallOut],
        finish: str,
        usage_block: dict[str, int],
    ) -> dict[str, Any]:
        """The whole ``chat.completion`` of a non-streamed request."""
        message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
        if tool_calls:
            message["tool_calls"] = [call.to_dict() for call in tool_calls]
        return {
            "id": self.completion_id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": usage_block,
        }


def models_list(model: str, created: int) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "created": created, "owned_by": "yap"}],
    }
