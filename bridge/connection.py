"""One WebSocket connection: the receive loop, the warm-up lane and the idle watchdog (§10.2).

Every rule is in ``bridge.protocol.connection_machine``; this module only moves frames: it
reads a text frame, lets the ``EffectRunner`` carry out the machine's script for it, and
writes frames. Turns run as their own tasks and warm-ups in a lane beside the loop, so
``ping``, ``cancel`` and barge-in are handled at once, even while a warm-up waits for Triton.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from typing import Any

from bridge.budget import TokenBudgets
from bridge.metrics import BridgeMetrics
from bridge.protocol.config import BridgeConfig
from bridge.protocol.connection_machine import ConnectionMachine
from bridge.protocol.effects import Script
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Frame
from bridge.protocol.sessions import SessionStore
from bridge.triton_gateway import TritonGateway
from bridge.turn import EffectRunner

log = logging.getLogger("yap.bridge.connection")


class Connection:
    def __init__(
        self,
        websocket: Any,
        peer: str,
        *,
        config: BridgeConfig,
        sessions: SessionStore,
        gateway: TritonGateway,
        budgets: TokenBudgets,
        metrics: BridgeMetrics,
        phrase_bias: dict[str, float],
    ) -> None:
        self.config = config
        self.ws = websocket
        self.peer = peer
        self.metrics = metrics
        self.closing = False
        self._handling = 0  # frames being handled now (a drain waits for them)
        self._lane: collections.deque[Script] = collections.deque()
        self._lane_task: asyncio.Task[None] | None = None
        self.machine = ConnectionMachine(config, sessions, phrase_bias=phrase_bias)
        self.runner = EffectRunner(
            gateway=gateway,
            budgets=budgets,
            metrics=metrics,
            send=self.emit,
            close=self.close,
            background=self._in_background,
            context=peer,
        )

    @property
    def session_id(self) -> str | None:
        return self.machine.session_id

    # -- output ------------------------------------------------------------------------------
    async def emit(self, frame: Frame | ProtocolError) -> None:
        if self.closing:
            return
        if isinstance(frame, ProtocolError):
            self.metrics.errors.labels(error_code=str(frame.error_code or "none")).inc()
        from websockets.exceptions import ConnectionClosed

        try:
            await self.ws.send(frame.to_json())
        except ConnectionClosed:
            self.closing = True

    async def close(self, code: int, reason: str = "") -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    @property
    def busy(self) -> bool:
        """A frame is being handled, a warm-up waits or a turn runs: a drain lets it finish."""
        lane_busy = self._lane_task is not None and not self._lane_task.done()
        return self._handling > 0 or lane_busy or self.machine.turn is not None

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        from websockets.exceptions import ConnectionClosed

        watchdog = asyncio.get_running_loop().create_task(self._watchdog())
        try:
            async for raw in self.ws:
                await self.on_frame(raw)
                if self.closing or self.machine.closed:
                    break
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            await self.cleanup()

    async def on_frame(self, raw: str | bytes) -> None:
        self._handling += 1
        try:
            await self.runner.drive(self.machine.receive(raw))
        finally:
            self._handling -= 1

    async def cleanup(self) -> None:
        """Disconnect for any reason: stop the turn and warm-ups, forget the session (§8.3)."""
        self._lane.clear()
        if self._lane_task is not None:
            self._lane_task.cancel()
        for effect in self.machine.disconnected():
            await self.runner.perform(effect)

    def _in_background(self, script: Script) -> None:
        self._lane.append(script)
        if self._lane_task is None or self._lane_task.done():
            self._lane_task = asyncio.get_running_loop().create_task(self._drain_lane())

    async def _drain_lane(self) -> None:
        while self._lane:
            await self.runner.drive(self._lane.popleft())

    async def _watchdog(self) -> None:
        timeout = self.config.ws_idle_timeout_s
        tick = max(0.05, self.config.ws_watchdog_tick_s)
        if timeout <= 0:
            return
        while not self.closing:
            await asyncio.sleep(tick)
            if time.monotonic() - self.machine.last_activity >= timeout:
                log.info("idle timeout peer=%s session=%s", self.peer, self.session_id)
                await self.close(self.config.ws_close_idle_code, self.config.ws_close_idle_reason)
                return
