"""The bridge's network shell: HTTP routes and the ``/ws`` endpoint on one ``websockets`` server.

- ``GET /`` and ``GET /healthz``: ``{"status": "ok"}`` when Triton serves the models this
  deploy mode needs, else 503 with what is missing (load balancers stop routing to us).
- ``GET /livez``: 200 while the process serves (a liveness probe: restart only when this fails).
- ``GET /readyz``: like ``/healthz``, and 503 ``draining`` once a SIGTERM drain has begun.
- ``GET /favicon.ico``: 204. ``GET /metrics``: the bridge's Prometheus metrics.
- ``/ws``: authentication (§2) and admission (§3) happen during the handshake; the handshake
  is always accepted so that a refused client gets an error frame and a close code it can read.
- On ``OPENAI_PORT`` (its own HTTP server, ``bridge.openai_api.server``): the OpenAI-compatible
  ``/v1/chat/completions`` and ``/v1/models``, sharing the capacity, gateway and metrics.

``drain()`` (SIGTERM): stop accepting, close idle sockets with 1001 at once, let running turns
finish for up to ``DRAIN_TIMEOUT_S``, then close what is left with 1012 (service restart).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import weakref
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bridge.budget import TokenBudgets
from bridge.capacity import Capacity
from bridge.connection import Connection
from bridge.metrics import BridgeMetrics
from bridge.openai_api.server import OpenAIFrontDoor
from bridge.protocol import errors
from bridge.protocol.auth import api_key_matches, provided_api_key
from bridge.protocol.config import BridgeConfig
from bridge.protocol.sessions import SessionStore
from bridge.triton_gateway import TritonGateway
from common.generation import load_phrase_bias

log = logging.getLogger("yap.bridge")
MAX_FRAME_BYTES = 16 * 2**20  # what uvicorn accepts; the reference has no smaller limit
GOING_AWAY = 1001  # drain: an idle socket, closed at once (clients reconnect elsewhere)
SERVICE_RESTART = 1012  # drain: a turn still running when DRAIN_TIMEOUT_S ran out


@dataclass
class Admission:
    authenticated: bool


class BridgeApp:
    def __init__(self, config: BridgeConfig, *, gateway: TritonGateway | None = None) -> None:
        self.config = config
        self.gateway = gateway or TritonGateway(
            config.triton_grpc_url, timeout_s=config.tool_timeout_s
        )
        self.sessions = SessionStore(config)
        self.budgets = TokenBudgets(self.gateway)
        self.metrics = BridgeMetrics()
        self.phrase_bias = load_phrase_bias(config.chat_logit_bias_file)
        self.capacity = Capacity(config.max_concurrent_connections)
        self._admissions: weakref.WeakKeyDictionary[Any, Admission] = weakref.WeakKeyDictionary()
        self._health: tuple[float, int, dict[str, Any]] = (0.0, 0, {})
        self.server: Any = None
        self.connections: set[Connection] = set()
        self.draining = False
        self.openai = OpenAIFrontDoor(self) if config.openai_port >= 0 else None

    # -- models this deploy mode needs -------------------------------------------------------
    @property
    def required_models(self) -> list[str]:
        models = [self.gateway.tokenizer_model]
        if self.config.deploy_chat:
            models.append(self.gateway.chat_model)
        if self.config.deploy_tool:
            models.append(self.gateway.intent_model)
        return models

    async def health(self) -> tuple[int, dict[str, Any]]:
        checked_at, status, body = self._health
        if time.monotonic() - checked_at < 1.0:
            return status, body
        ready = await self.gateway.models_ready(self.required_models)
        if all(ready.values()):
            status, body = 200, {"status": "ok"}
        else:
            missing = [m for m, ok in ready.items() if not ok]
            status = 503
            body = {
                "status": "unavailable",
                "message": (
                    f"Triton at {self.config.triton_grpc_url} does not serve: {', '.join(missing)}"
                ),
                "models": ready,
            }
        self._health = (time.monotonic(), status, body)
        return status, body

    # -- handshake ---------------------------------------------------------------------------
    async def process_request(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        def reply(status: int, body: bytes, content_type: str) -> Response:
            headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
            return Response(status, HTTPStatus(status).phrase, headers, body)

        url = urlsplit(request.path)
        if url.path in ("/", "/healthz"):
            status, body = await self.health()
            return reply(status, json.dumps(body).encode(), "application/json")
        if url.path == "/livez":
            return reply(200, b'{"status":"alive"}', "application/json")
        if url.path == "/readyz":
            if self.draining:
                status, body = 503, {"status": "draining", "message": "the bridge is shutting down"}
            else:
                status, body = await self.health()
            return reply(status, json.dumps(body).encode(), "application/json")
        if url.path == "/favicon.ico":
            return Response(204, "No Content", Headers(), b"")
        if url.path == "/metrics":
            return reply(200, self.metrics.render(), "text/plain; version=0.0.4")
        if url.path != "/ws":
            return reply(404, b'{"detail":"Not Found"}', "application/json")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        key = provided_api_key(query, list(request.headers.raw_items()))
        if not api_key_matches(key, self.config.text_api_key):
            self._admissions[connection] = Admission(authenticated=False)
            return None
        # The slot is taken in ``handle``, once the handshake has succeeded: a request that never
        # becomes a WebSocket (a plain GET /ws, a failed upgrade) must not hold one forever.
        self._admissions[connection] = Admission(authenticated=True)
        return None

    async def handle(self, websocket: Any) -> None:
        admission = self._admissions.pop(websocket, None) or Admission(False)
        peer = str(getattr(websocket, "remote_address", ""))
        if not admission.authenticated:
            self.metrics.rejected_connections.labels(reason="auth").inc()
            log.info("auth failed peer=%s", peer)
            await self._refuse(
                websocket, errors.authentication_failed(self.config.ws_close_unauthorized_code)
            )
            return
        admitted = await self.capacity.acquire(self.config.ws_handshake_acquire_timeout_s)
        if not admitted:
            self.metrics.rejected_connections.labels(reason="capacity").inc()
            active = self.capacity.active
            refusal = errors.server_at_capacity(
                active, self.capacity.maximum, self.config.ws_close_busy_code
            )
            await self._refuse(websocket, refusal)
            return
        self.metrics.active_connections.inc()
        connection = Connection(
            websocket,
            peer,
            config=self.config,
            sessions=self.sessions,
            gateway=self.gateway,
            budgets=self.budgets,
            metrics=self.metrics,
            phrase_bias=self.phrase_bias,
        )
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            self.metrics.active_connections.dec()
            await self.capacity.release()

    async def _refuse(self, websocket: Any, error: errors.ProtocolError) -> None:
        self.metrics.errors.labels(error_code=str(error.error_code)).inc()
        try:
            await websocket.send(error.to_json())
            await websocket.close(error.close_code or 1008)
        except Exception:
            pass

    # -- serving -----------------------------------------------------------------------------
    async def start(self, host: str | None = None, port: int | None = None) -> Any:
        from websockets.asyncio.server import serve

        self.server = await serve(
            self.handle,
            host or self.config.bridge_host,
            self.config.bridge_port if port is None else port,
            process_request=self.process_request,
            max_size=MAX_FRAME_BYTES,
            compression=None,  # small JSON frames: deflate would cost latency and CPU
            ping_interval=20,
            ping_timeout=20,
            server_header="yap-bridge",
        )
        if self.openai is not None:
            await self.openai.start(host or self.config.bridge_host, self.config.openai_port)
        return self.server

    @property
    def port(self) -> int:
        return int(self.server.sockets[0].getsockname()[1])

    @property
    def openai_port(self) -> int | None:
        return self.openai.port if self.openai is not None else None

    async def drain(self, timeout_s: float | None = None) -> dict[str, int]:
        """Graceful stop: refuse new connections, let running turns finish, close the rest.

        Returns how many sockets were closed as idle (1001) and how many at the deadline (1012).
        """
        timeout_s = self.config.drain_timeout_s if timeout_s is None else timeout_s
        self.draining = True
        if self.server is not None:
            self.server.close(close_connections=False)  # stop listening; keep open sockets
        closed = {"idle": 0, "timed_out": 0}
        deadline = time.monotonic() + timeout_s
        log.info("drain started connections=%d timeout_s=%.1f", len(self.connections), timeout_s)
        while self.connections and time.monotonic() < deadline:
            for connection in list(self.connections):
                if not connection.busy and not connection.closing:
                    closed["idle"] += 1
                    await connection.close(GOING_AWAY, "server shutting down")
            await asyncio.sleep(0.05)
        if self.openai is not None:
            closed["timed_out"] += await self.openai.drain(deadline)
        for connection in list(self.connections):
            if not connection.closing:
                closed["timed_out"] += 1
                await connection.close(SERVICE_RESTART, "server restarting")
        if self.server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 5.0)
        log.info("drain done idle_closed=%d timeout_closed=%d", closed["idle"], closed["timed_out"])
        return closed

    async def stop(self) -> None:
        if self.openai is not None:
            await self.openai.stop()
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 10.0)
        await self.gateway.close()
