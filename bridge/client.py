"""A small Yap protocol client: used by the tests, the load generator and the terminal CLI.

``YapClient.turn()`` sends a ``start`` and collects the turn's frames up to ``done`` (or an
``error``), with the timings a voice pipeline cares about: toolcall, first token, first three
words, first sentence, total.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

SENTENCE_END = re.compile(r"[.!?](\s|$)")


@dataclass
class TurnResult:
    frames: list[dict[str, Any]] = field(default_factory=list)
    ack: dict[str, Any] | None = None
    toolcall: dict[str, Any] | None = None
    tokens: list[str] = field(default_factory=list)
    final: dict[str, Any] | None = None
    done: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    sent_at: float = 0.0
    toolcall_ms: float | None = None
    first_token_ms: float | None = None
    first_3_words_ms: float | None = None
    first_sentence_ms: float | None = None
    total_ms: float | None = None

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def types(self) -> list[str]:
        return [str(frame.get("type")) for frame in self.frames]


class YapClient:
    def __init__(self, websocket: Any) -> None:
        self.ws = websocket

    @classmethod
    async def connect(
        cls,
        url: str,
        api_key: str | None = None,
        *,
        key_via: str = "query",
        open_timeout: float = 10.0,
        **kwargs: Any,
    ) -> YapClient:
        from websockets.asyncio.client import connect

        headers: dict[str, str] = {}
        if api_key is not None:
            if key_via == "query":
                url += ("&" if "?" in url else "?") + "api_key=" + quote(api_key)
            elif key_via == "header":
                headers["X-API-Key"] = api_key
            elif key_via == "bearer":
                headers["Authorization"] = f"Bearer {api_key}"
            else:
                raise ValueError(f"key_via must be query, header or bearer, not {key_via!r}")
        websocket = await connect(
            url, additional_headers=headers, open_timeout=open_timeout, max_size=2**24, **kwargs
        )
        return cls(websocket)

    async def send(self, message: Mapping[str, Any] | str) -> None:
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = 60.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        frame = json.loads(raw)
        assert isinstance(frame, dict)
        return frame

    async def close(self) -> None:
        await self.ws.close()

    async def __aenter__(self) -> YapClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @staticmethod
    def start_message(
        session_id: str,
        user_utterance: str,
        *,
        gender: str = "female",
        personality: str = "friendly",
        chat_prompt: str | None = "You are a friendly voice assistant. Keep replies short.",
        personalities: Mapping[str, list[str]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "start",
            "session_id": session_id,
            "gender": gender,
            "personality": personality,
            "user_utterance": user_utterance,
            "personalities": dict(personalities or {personality: []}),
        }
        if chat_prompt is not None:
            message["chat_prompt"] = chat_prompt
        message.update(extra)
        return message

    async def turn(
        self, message: Mapping[str, Any], *, timeout: float = 120.0, expect_ack: bool = True
    ) -> TurnResult:
        """Send a ``start`` (or ``followup``) and read frames until ``done`` or ``error``."""
        result = TurnResult(sent_at=time.perf_counter())
        await self.send(message)
        await self.read_turn(result, timeout=timeout, expect_ack=expect_ack)
        return result

    async def read_turn(
        self, result: TurnResult, *, timeout: float = 120.0, expect_ack: bool = True
    ) -> None:
        deadline = time.perf_counter() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - time.perf_counter()))
            elapsed = (time.perf_counter() - result.sent_at) * 1000.0
            result.frames.append(frame)
            kind = frame.get("type")
            if kind == "ack" and result.ack is None:
                result.ack = frame
            elif kind == "toolcall":
                result.toolcall = frame
                result.toolcall_ms = elapsed
            elif kind == "token":
                result.tokens.append(str(frame.get("text", "")))
                text = result.text
                if result.first_token_ms is None:
                    result.first_token_ms = elapsed
                if result.first_3_words_ms is None and len(text.split()) >= 3:
                    result.first_3_words_ms = elapsed
                if result.first_sentence_ms is None and SENTENCE_END.search(text):
                    result.first_sentence_ms = elapsed
            elif kind == "final":
                result.final = frame
            elif kind == "done":
                result.done = frame
                result.total_ms = elapsed
                return
            elif kind == "error":
                result.error = frame
                result.total_ms = elapsed
                return
