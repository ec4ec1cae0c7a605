"""One turn of a session: tool decision first, then the cleaned chat stream (§7).

A ``Turn`` runs as its own asyncio task so that the connection keeps reading (ping, cancel,
barge-in) while it streams. ``TurnHandle.abort()`` stops it at once: the gRPC chat stream is
cancelled (Triton cancels the request, the chat model aborts it in the engine), the classifier
call is cancelled with the task, and nothing more is sent for the turn.

With ``CONCURRENT_MODEL_CALL`` the chat stream starts speculatively while the classifier runs;
its deltas wait in a buffer until the ``toolcall`` frame is out, and when the answer is "yes"
the stream is dropped and restarted with the check-screen prefix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.metrics import BridgeMetrics
from bridge.protocol import errors
from bridge.protocol.cleaner import output_stream
from bridge.protocol.config import BridgeConfig
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Done, Final, Frame, Token, ToolCall
from bridge.protocol.history import build_chat_messages, with_check_screen_prefix
from bridge.protocol.phrases import match_phrase, toolcall_from_text
from bridge.session import Session
from bridge.triton_gateway import (
    ChatDelta,
    ChatStream,
    TritonGateway,
    TritonRequestError,
    TritonUnavailable,
)

log = logging.getLogger("yap.bridge.turn")
TAKE_SCREENSHOT = '[{"name": "take_screenshot"}]'
NO_TOOL = "[]"
_END = object()

Emit = Callable[[Frame | ProtocolError], Awaitable[None]]


@dataclass
class TurnPlan:
    """Everything a turn needs, fixed when it starts."""

    label: str  # "start" or "followup" (logs and metrics)
    session: Session
    utterance: str  # the user text as the model sees it (before any check-screen prefix)
    turn_id: int | None  # the history turn that receives the reply
    prompt_turns: tuple[Any, ...]  # history before this turn (for the chat prompt)
    earlier_user_lines: list[dict[str, Any]]  # the classifier's context (router_context)
    sampling: dict[str, Any]
    sanitize: bool
    decide_tool: bool
    chat: bool
    check_screen_prefix: str
    include_timings: bool = False  # extension: done.timings for benchmarks
    received_at: float = field(default_factory=time.monotonic)


class TurnHandle:
    """The running turn of a session; ``abort`` stops all of its work at once."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.streams: list[ChatStream] = []
        self.aborted = False
        self.finished = False
        self.delivered: list[str] = []

    def abort(self) -> None:
        self.aborted = True
        for stream in self.streams:
            stream.cancel()
        if self.task is not None and not self.task.done():
            self.task.cancel()


class _ChatFeed:
    """Reads one chat stream into a queue, so a speculative stream can run ahead."""

    def __init__(self, stream: ChatStream) -> None:
        self.stream = stream
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            async for delta in self.stream:
                self.queue.put_nowait(delta)
            self.queue.put_nowait(_END)
        except asyncio.CancelledError:
            self.queue.put_nowait(_END)
            raise
        except Exception as exc:
            self.queue.put_nowait(exc)

    async def next(self) -> ChatDelta | None:
        item = await self.queue.get()
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, ChatDelta)
        return item

    def close(self) -> None:
        self.stream.cancel()
        self.task.cancel()


class Turn:
    def __init__(
        self,
        plan: TurnPlan,
        handle: TurnHandle,
        *,
        config: BridgeConfig,
        gateway: TritonGateway,
        emit: Emit,
        metrics: BridgeMetrics,
        phrase_bias: dict[str, float],
        speculative: bool,
    ) -> None:
        self.plan = plan
        self.handle = handle
        self.config = config
        self.gateway = gateway
        self._emit = emit
        self.metrics = metrics
        self.phrase_bias = phrase_bias
        self.speculative = speculative
        self.first_token_at: float | None = None
        # Wall-clock marks (comparable with the chat model's) for benchmarks' breakdowns.
        self.timings: dict[str, Any] = {
            "received_wall": time.time() - (time.monotonic() - plan.received_at)
        }

    async def send(self, frame: Frame | ProtocolError) -> None:
        if not self.handle.aborted:
            await self._emit(frame)

    async def run(self) -> None:
        plan = self.plan
        outcome = "ok"
        feed: _ChatFeed | None = None
        try:
            if plan.chat and plan.decide_tool and self.speculative:
                feed = self._start_chat(with_prefix=False)
            tool: ToolCall | None = None
            if plan.decide_tool:
                tool = await self._decide_tool()
                tool_s = time.monotonic() - plan.received_at
                self.metrics.tool_decision.observe(tool_s)
                self.timings["tool_ms"] = round(tool_s * 1000.0, 3)
                await self.send(tool)
            if plan.chat:
                screen = tool is not None and tool.status == "yes"
                if feed is not None and screen:
                    feed.close()  # the model must see the check-screen prefix: start over
                    feed = None
                if feed is None:
                    feed = self._start_chat(with_prefix=screen)
                await self._stream(feed)
            else:
                await self.send(Final(""))
                await self.send(Done(self.timings if plan.include_timings else None))
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        except TritonUnavailable as exc:
            outcome = "engine_unavailable"
            await self.send(errors.engine_unavailable(str(exc)))
        except TritonRequestError as exc:
            outcome = "internal_error"
            await self.send(errors.internal_error(f"chat engine error: {exc}"))
        except TimeoutError:
            outcome = "generation_timeout"
            await self.send(errors.generation_timeout(self.config.gen_timeout_s))
        except Exception as exc:
            outcome = "internal_error"
            log.exception("turn failed session=%s", plan.session.session_id)
            await self.send(errors.internal_error(f"{type(exc).__name__}: {exc}"))
        finally:
            if feed is not None:
                feed.close()
            self._record_history()
            log.info(
                "turn session=%s turn=%s kind=%s outcome=%s tool_ms=%s ttft_ms=%s chars=%d",
                plan.session.session_id,
                plan.turn_id,
                plan.label,
                outcome,
                self.timings.get("tool_ms"),
                self.timings.get("bridge_ttft_ms"),
                sum(len(piece) for piece in self.handle.delivered),
            )
            self.handle.finished = True
            if plan.session.turn is self.handle:
                plan.session.turn = None
            self.metrics.turns.labels(kind=plan.label, outcome=outcome).inc()

    async def _decide_tool(self) -> ToolCall:
        plan = self.plan
        text = match_phrase(plan.utterance, plan.session.personalities)
        if text is None:
            if not plan.utterance.strip():
                text = NO_TOOL
            else:
                try:
                    async with asyncio.timeout(self.config.tool_timeout_s):
                        _, yes = await self.gateway.classify(
                            plan.utterance, plan.earlier_user_lines
                        )
                    text = TAKE_SCREENSHOT if yes else NO_TOOL
                except TimeoutError:
                    self.metrics.tool_timeouts.inc()
                    text = NO_TOOL  # §7.1: a slow classifier means "no", not a failed turn
        if text == TAKE_SCREENSHOT:
            plan.session.captures.remember(plan.utterance)
        return toolcall_from_text(text)

    def _start_chat(self, *, with_prefix: bool) -> _ChatFeed:
        plan = self.plan
        user_text = plan.utterance
        if with_prefix:
            user_text = with_check_screen_prefix(plan.utterance, plan.check_screen_prefix)
        messages = build_chat_messages(plan.session.chat_prompt, plan.prompt_turns, user_text)
        stream = self.gateway.chat_stream(
            [m.to_dict() for m in messages],
            plan.sampling,
            request_id=f"{plan.session.session_id}:{plan.turn_id}:{uuid.uuid4().hex[:12]}",
            want_stats=True,
        )
        self.handle.streams.append(stream)
        self.timings["chat_started_ms"] = round((time.monotonic() - plan.received_at) * 1000.0, 3)
        return _ChatFeed(stream)

    async def _stream(self, feed: _ChatFeed) -> None:
        output = output_stream(self.plan.sanitize)
        flush_s = self.config.stream_flush_ms / 1000.0
        pending = ""
        last_flush = time.monotonic()
        async with asyncio.timeout(self.config.gen_timeout_s):
            while True:
                delta = await feed.next()
                if delta is None:
                    raise TritonUnavailable("the chat stream ended early (Triton went away)")
                piece = output.feed(delta.text)
                if delta.final:
                    piece += output.finish()
                if piece:
                    if flush_s > 0:
                        pending += piece
                        now = time.monotonic()
                        if now - last_flush >= flush_s:
                            await self._token(pending)
                            pending, last_flush = "", now
                    else:
                        await self._token(piece)
                if delta.final:
                    for key in (
                        "engine_ttft_ms",
                        "model_ttft_ms",
                        "num_input_tokens",
                        "num_cached_tokens",
                        "num_output_tokens",
                        "finish_reason",
                        "timeline",
                    ):
                        if delta.stats and key in delta.stats:
                            self.timings[key] = delta.stats[key]
                    break
        if pending:
            await self._token(pending)
        await self.send(Final("".join(self.handle.delivered)))
        await self.send(Done(self.timings if self.plan.include_timings else None))

    async def _token(self, text: str) -> None:
        if self.handle.aborted:
            return
        await self.send(Token(text))
        self.handle.delivered.append(text)
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
            ttft = self.first_token_at - self.plan.received_at
            self.metrics.chat_ttft.observe(ttft)
            self.timings["bridge_ttft_ms"] = round(ttft * 1000.0, 3)
            self.timings["first_token_sent_wall"] = time.time()

    def _record_history(self) -> None:
        """Fill the reply into the turn: the whole text, or what was delivered before a stop."""
        plan = self.plan
        if plan.turn_id is not None and self.handle.delivered:
            text = "".join(self.handle.delivered)
            plan.session.history = plan.session.history.with_assistant_text(plan.turn_id, text)


def start_turn(turn: Turn) -> TurnHandle:
    handle = turn.handle
    handle.task = asyncio.get_running_loop().create_task(turn.run())
    handle.task.add_done_callback(_consume_result)
    return handle


def _consume_result(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None:
            log.error("turn task crashed: %r", exc)
