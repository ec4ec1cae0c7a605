"""The asyncio shell of the machines: carries out their effects against Triton (§7, §16).

``EffectRunner.drive(script)`` runs one script of ``bridge.protocol.effects`` to its end:
frames go to the front door's ``send``, token budgets to ``TokenBudgets``, classifier and chat
calls to the gateway, and a failure of any call is thrown back into the script, which decides
what the client sees. ``RunTurn`` starts a ``TurnMachine`` as its own task; ``AbortTurn`` stops
that task, its classifier call and its chat streams at once (the gRPC stream is cancelled and
the chat model told to abort the request by id). No protocol rule lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bridge.budget import TokenBudgets
from bridge.metrics import BridgeMetrics
from bridge.protocol.effects import (
    AbortTurn,
    ChatDelta,
    Classify,
    Close,
    CloseChat,
    Count,
    Effect,
    EngineRequestError,
    EngineUnavailable,
    ExceedsTokens,
    HeadTokens,
    InBackground,
    NextDelta,
    Observe,
    OpenChat,
    RunTurn,
    Script,
    Send,
    TrimHistories,
    TrimText,
    TurnFinished,
    Warm,
)
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Frame
from bridge.protocol.generation import warm_sampling
from bridge.protocol.turn_machine import TurnMachine
from bridge.triton_gateway import ChatStream, TritonGateway

log = logging.getLogger("yap.bridge.turn")
_END = object()

SendFrame = Callable[[Frame | ProtocolError], Awaitable[None]]
CloseSocket = Callable[[int, str], Awaitable[None]]


class ChatFeed:
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


class TurnWork:
    """The running task of one turn and its chat streams; ``abort`` stops all at once."""

    def __init__(self) -> None:
        self.task: asyncio.Task[None] | None = None
        self.feeds: list[ChatFeed] = []

    def abort(self) -> None:
        for feed in self.feeds:
            feed.close()
        if self.task is not None and not self.task.done():
            self.task.cancel()


class EffectRunner:
    """Carries out the effects of one front door's machines (one per connection)."""

    def __init__(
        self,
        *,
        gateway: TritonGateway,
        budgets: TokenBudgets,
        metrics: BridgeMetrics,
        send: SendFrame,
        close: CloseSocket,
        background: Callable[[Script], None],
        context: str = "",
    ) -> None:
        self.gateway = gateway
        self.budgets = budgets
        self.metrics = metrics
        self.send = send
        self.close = close
        self.background = background
        self.context = context  # for logs: the peer

    async def drive(self, script: Script, work: TurnWork | None = None) -> None:
        """Run ``script`` to its end, answering each effect (failures are thrown into it)."""
        answer: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    effect = script.throw(error) if error is not None else script.send(answer)
                except StopIteration:
                    return
                answer, error = None, None
                try:
                    answer = await self.perform(effect, work)
                except (EngineUnavailable, EngineRequestError, TimeoutError) as exc:
                    error = exc
                except Exception as exc:
                    log.exception("%s failed peer=%s", type(effect).__name__, self.context)
                    error = exc
        finally:
            script.close()

    async def perform(self, effect: Effect, work: TurnWork | None = None) -> Any:
        if isinstance(effect, Send):
            await self.send(effect.frame)
        elif isinstance(effect, NextDelta):
            async with asyncio.timeout(effect.timeout_s):
                return await effect.chat.next()
        elif isinstance(effect, Close):
            await self.close(effect.code, effect.reason)
        elif isinstance(effect, Count):
            metric = getattr(self.metrics, effect.metric)
            (metric.labels(**effect.labels) if effect.labels else metric).inc()
        elif isinstance(effect, Observe):
            getattr(self.metrics, effect.metric).observe(effect.seconds)
        elif isinstance(effect, RunTurn):
            self._start_turn(effect.turn)
        elif isinstance(effect, AbortTurn):
            if isinstance(effect.turn.work, TurnWork):
                effect.turn.work.abort()
        elif isinstance(effect, TurnFinished):
            self._finished(effect.turn, effect.outcome)
        elif isinstance(effect, InBackground):
            self.background(effect.script)
        elif isinstance(effect, ExceedsTokens):
            return await self.budgets.exceeds(effect.text, effect.max_tokens)
        elif isinstance(effect, HeadTokens):
            return await self.budgets.head(effect.text, effect.max_tokens)
        elif isinstance(effect, TrimHistories):
            return await self.budgets.trim_histories(effect.histories, effect.max_tokens)
        elif isinstance(effect, TrimText):
            return await self.budgets.trim_text(effect.text, effect.max_tokens)
        elif isinstance(effect, Classify):
            async with asyncio.timeout(effect.timeout_s):
                _, yes = await self.gateway.classify(effect.utterance, effect.context)
            return yes
        elif isinstance(effect, OpenChat):
            stream = self.gateway.chat_stream(
                list(effect.messages),
                effect.sampling,
                request_id=effect.request_id,
                want_stats=True,
            )
            feed = ChatFeed(stream)
            if work is not None:
                work.feeds.append(feed)
            return feed
        elif isinstance(effect, CloseChat):
            effect.chat.close()
        elif isinstance(effect, Warm):
            await self._warm(effect)
        else:
            raise TypeError(f"unknown effect {effect!r}")
        return None

    async def _warm(self, effect: Warm) -> None:
        """One greedy token at warm priority: fills the prefix cache, nothing else."""
        stream = self.gateway.chat_stream(list(effect.messages), warm_sampling())
        try:
            async with asyncio.timeout(effect.timeout_s):
                async for delta in stream:
                    if delta.final:
                        break
        finally:
            stream.cancel()

    def _start_turn(self, turn: TurnMachine) -> None:
        work = TurnWork()
        turn.work = work
        work.task = asyncio.get_running_loop().create_task(self._run_turn(turn, work))
        work.task.add_done_callback(_consume_result)

    async def _run_turn(self, turn: TurnMachine, work: TurnWork) -> None:
        try:
            await self.drive(turn.run(), work)
        finally:
            for feed in work.feeds:
                feed.close()

    def _finished(self, turn: TurnMachine, outcome: str) -> None:
        plan = turn.plan
        log.info(
            "turn session=%s turn=%s kind=%s outcome=%s tool_ms=%s ttft_ms=%s chars=%d",
            plan.session.session_id,
            plan.turn_id,
            plan.label,
            outcome,
            turn.timings.get("tool_ms"),
            turn.timings.get("bridge_ttft_ms"),
            sum(len(piece) for piece in turn.delivered),
        )
        self.metrics.turns.labels(kind=plan.label, outcome=outcome).inc()


def _consume_result(task: asyncio.Task[None]) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        exc = task.exception()
        if exc is not None:
            log.error("turn task crashed: %r", exc)
