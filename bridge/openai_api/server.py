"""The OpenAI-compatible HTTP endpoint (aiohttp), beside the WebSocket bridge in one process.

- ``POST /v1/chat/completions``: streamed (SSE) or whole replies; each request is one Yap turn.
- ``GET /v1/models``: the one model id this server serves (``OPENAI_MODEL_NAME``).

Both need the API key (``Authorization: Bearer``, or ``X-API-Key``). A completion holds one slot
of the bridge's connection capacity while it runs; requests are rate-limited per client
address. A client that goes away aborts its turn at once, the engine request included: aiohttp
cancels the handler on disconnect (``handler_cancellation``), and the ``finally`` aborts.

The HTTP status is chosen before the first byte: a stream's headers go out with its first
event, so a request that fails before any output gets a proper 4xx/5xx; a failure after that
is an SSE ``error`` event, and the stream ends without ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from bridge.budget import TokenBudgets
from bridge.capacity import Capacity
from bridge.metrics import BridgeMetrics
from bridge.openai_api import errors
from bridge.openai_api.errors import OpenAIError
from bridge.openai_api.request import CompletionRequest, parse_completion_request
from bridge.openai_api.responses import (
    DONE_EVENT,
    CompletionIds,
    ToolCallOut,
    finish_reason,
    models_list,
    sse,
    tool_calls_from_raw,
    usage,
)
from bridge.openai_api.turns import OpenAITurnScript
from bridge.protocol.auth import api_key_matches, provided_api_key
from bridge.protocol.config import BridgeConfig
from bridge.protocol.effects import EngineRequestError, EngineUnavailable, Script
from bridge.protocol.errors import ErrorCode, ProtocolError
from bridge.protocol.frames import Done, Frame, Token, ToolCall
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.turn_machine import failure_frame
from bridge.triton_gateway import TritonGateway
from bridge.turn import EffectRunner


class BridgeApp(Protocol):
    """What the door uses of the bridge application (``bridge.server.BridgeApp``), shared with
    the WebSocket door: one capacity, gateway, token budgets and metrics."""

    config: BridgeConfig
    gateway: TritonGateway
    budgets: TokenBudgets
    metrics: BridgeMetrics
    phrase_bias: dict[str, float]
    capacity: Capacity
    draining: bool


log = logging.getLogger("yap.bridge.openai")
MAX_BODY_BYTES = 16 * 2**20  # the WebSocket frame limit of the bridge
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(error: OpenAIError) -> web.Response:
    return web.Response(
        status=error.status,
        text=error.to_json(),
        content_type="application/json",
        headers=error.headers,
    )


def turn_error(error: ProtocolError, gen_timeout_s: float) -> OpenAIError:
    """A turn's ``error`` frame as an OpenAI error (its message is already fit for a client)."""
    if error.error_code == ErrorCode.CHAT_PROMPT_TOO_LONG:
        return errors.invalid(
            f"{error.message} (the system and developer messages together)",
            param="messages",
            code=str(error.error_code),
        )
    if error.error_code == ErrorCode.ENGINE_UNAVAILABLE:
        return errors.engine_unavailable(error.message)
    if error.error_code == ErrorCode.GENERATION_TIMEOUT:
        return errors.generation_timeout(gen_timeout_s)
    return errors.internal(error.message)


class OpenAITurn:
    """The shell of one ``OpenAITurnScript``: carries out its effects, queues its frames."""

    def __init__(self, app: BridgeApp, request: CompletionRequest, request_id: str) -> None:
        self.rules = OpenAITurnScript(
            request, app.config, phrase_bias=app.phrase_bias, request_id=request_id
        )
        self._frames: asyncio.Queue[Frame | ProtocolError] = asyncio.Queue()
        self.runner = EffectRunner(
            gateway=app.gateway,
            budgets=app.budgets,
            metrics=app.metrics,
            send=self._queue,
            close=self._no_socket,
            background=self._no_background,
            context=f"openai:{request_id}",
        )

    async def _queue(self, frame: Frame | ProtocolError) -> None:
        self._frames.put_nowait(frame)

    async def _no_socket(self, code: int, reason: str) -> None:
        return None  # an HTTP turn has no socket to close

    def _no_background(self, script: Script) -> None:
        raise RuntimeError("an OpenAI turn runs no background work")

    async def start(self) -> None:
        """Budgets (Triton counts), then the turn runs as its own task."""
        try:
            await self.runner.drive(self.rules.script())
        except (EngineUnavailable, EngineRequestError) as exc:
            await self._queue(failure_frame(exc))

    async def outputs(self) -> AsyncIterator[Frame | ProtocolError]:
        """The turn's frames up to its ``done`` or its error."""
        while True:
            frame = await self._frames.get()
            yield frame
            if isinstance(frame, Done | ProtocolError):
                return

    async def abort(self) -> None:
        """A no-op once the turn is over; else it stops now, the engine request included."""
        for effect in self.rules.stop():
            await self.runner.perform(effect)


class _Reply:
    """What one turn produced so far, in OpenAI terms."""

    def __init__(self, request: CompletionRequest) -> None:
        self.request = request
        self.tool_calls: list[ToolCallOut] = []
        self.text: list[str] = []
        self.usage: dict[str, Any] = usage(0, 0)
        self.finish = "stop"

    def done(self, frame: Done) -> None:
        timings = frame.timings or {}
        prompt = timings.get("num_input_tokens")
        completion = timings.get("num_output_tokens")
        self.usage = usage(
            prompt if isinstance(prompt, int) else 0,
            completion if isinstance(completion, int) else 0,
        )
        self.finish = finish_reason(timings.get("finish_reason"), self.tool_calls)
        if self.request.include_timings:  # e.g. the benchmark's engine TTFT, as `done` has it
            self.usage = {**self.usage, "yap_timings": dict(timings)}


class OpenAIFrontDoor:
    def __init__(self, app: BridgeApp) -> None:
        self.app = app
        self.config = app.config
        self.model = app.config.openai_model_name
        self.created = int(time.time())
        self._limiters: dict[str, SlidingWindowLimiter] = {}
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.active: set[OpenAITurn] = set()
        self.draining = False

    # -- serving -----------------------------------------------------------------------------
    def application(self) -> web.Application:
        application = web.Application(
            client_max_size=MAX_BODY_BYTES, middlewares=[self._errors_middleware]
        )
        application.router.add_post("/v1/chat/completions", self.chat_completions)
        application.router.add_get("/v1/models", self.models)
        return application

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.application(), handler_cancellation=True, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, host, port)
        await self._site.start()
        log.info("openai endpoint listening host=%s port=%d model=%s", host, self.port, self.model)

    @property
    def port(self) -> int:
        assert self._site is not None and self._site._server is not None
        sockets = getattr(self._site._server, "sockets", None) or []
        return int(sockets[0].getsockname()[1])

    async def drain(self, deadline: float) -> int:
        """Refuse new requests; let running ones finish until ``deadline``; abort the rest."""
        self.draining = True
        while self.active and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = len(self.active)
        for turn in list(self.active):
            await turn.abort()
        return left

    async def stop(self) -> None:
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
            self._runner = None

    # -- middleware: every error in OpenAI's shape, never a stack trace ----------------------
    @web.middleware
    async def _errors_middleware(self, request: web.Request, handler: Handler) -> Any:
        try:
            return await handler(request)
        except web.HTTPMethodNotAllowed:
            return error_response(errors.method_not_allowed(request.method, request.path))
        except web.HTTPNotFound:
            return error_response(errors.not_found(request.path))
        except web.HTTPRequestEntityTooLarge:
            return error_response(
                errors.OpenAIError(
                    413, f"The request body exceeds {MAX_BODY_BYTES} bytes.", code="too_large"
                )
            )
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:
            log.exception("openai request failed path=%s", request.path)
            return error_response(errors.internal(f"internal error ({type(exc).__name__})"))

    # -- checks shared by the routes ---------------------------------------------------------
    def _authenticate(self, request: web.Request) -> OpenAIError | None:
        key = provided_api_key({}, list(request.headers.items()))
        if not api_key_matches(key, self.config.text_api_key):
            self.app.metrics.rejected_connections.labels(reason="auth").inc()
            return errors.invalid_api_key()
        return None

    def _rate_limit(self, request: web.Request) -> OpenAIError | None:
        peer = request.remote or ""
        limiter = self._limiters.get(peer)
        if limiter is None:
            if len(self._limiters) > 10_000:  # forget idle clients (their windows are empty)
                self._limiters.clear()
            limiter = self._limiters[peer] = SlidingWindowLimiter(
                self.config.openai_max_requests_per_window,
                self.config.openai_request_window_seconds,
            )
        rejected = limiter.attempt()
        if rejected is None:
            return None
        self.app.metrics.rate_limited.labels(limiter="openai").inc()
        return errors.rate_limited(limiter.limit, limiter.window_s, rejected.retry_in)

    # -- routes ------------------------------------------------------------------------------
    async def models(self, request: web.Request) -> web.Response:
        refused = self._authenticate(request)
        if refused is not None:
            return error_response(refused)
        return web.json_response(models_list(self.model, self.created))

    async def chat_completions(self, request: web.Request) -> web.StreamResponse:
        refused = self._authenticate(request) or self._rate_limit(request)
        if refused is None and (self.draining or self.app.draining):
            refused = errors.draining()
        if refused is not None:
            return error_response(refused)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return error_response(errors.invalid("the request body is not valid JSON"))
        parsed = parse_completion_request(body, self.config, served_model=self.model)
        if isinstance(parsed, OpenAIError):
            return error_response(parsed)
        capacity = self.app.capacity
        if not await capacity.acquire(self.config.ws_handshake_acquire_timeout_s):
            self.app.metrics.rejected_connections.labels(reason="capacity").inc()
            return error_response(errors.at_capacity(capacity.active, capacity.maximum))
        turn = OpenAITurn(self.app, parsed, uuid.uuid4().hex[:16])
        self.active.add(turn)
        self.app.metrics.active_connections.inc()
        try:
            await turn.start()
            if parsed.stream:
                return await self._stream(request, turn, parsed)
            return await self._whole(turn, parsed)
        finally:
            await turn.abort()  # a no-op after done; on a disconnect it stops the engine request
            self.active.discard(turn)
            self.app.metrics.active_connections.dec()
            await capacity.release()

    async def _whole(self, turn: OpenAITurn, request: CompletionRequest) -> web.Response:
        reply = _Reply(request)
        async for frame in turn.outputs():
            if isinstance(frame, ToolCall):
                if frame.status == "yes":
                    reply.tool_calls = tool_calls_from_raw(frame.raw, request.tools)
            elif isinstance(frame, Token):
                reply.text.append(frame.text)
            elif isinstance(frame, Done):
                reply.done(frame)
            elif isinstance(frame, ProtocolError):
                return error_response(turn_error(frame, self.config.gen_timeout_s))
        ids = CompletionIds(request.model)
        body = ids.completion("".join(reply.text), reply.tool_calls, reply.finish, reply.usage)
        return web.json_response(body)

    async def _stream(
        self, http: web.Request, turn: OpenAITurn, request: CompletionRequest
    ) -> web.StreamResponse:
        reply = _Reply(request)
        ids = CompletionIds(request.model)
        response: web.StreamResponse | None = None

        async def send(payload: dict[str, Any]) -> None:
            nonlocal response
            if response is None:
                response = web.StreamResponse(
                    headers={
                        "Content-Type": "text/event-stream",
                        "Cache-Control": "no-cache",
                        "X-Accel-Buffering": "no",
                    }
                )
                await response.prepare(http)
                # The role comes first, as OpenAI sends it.
                await response.write(sse(ids.chunk({"role": "assistant", "content": ""})))
            await response.write(sse(payload))

        async for frame in turn.outputs():
            if isinstance(frame, ToolCall):
                calls = tool_calls_from_raw(frame.raw, request.tools)
                if frame.status == "yes" and calls:
                    reply.tool_calls = calls
                    await send(
                        ids.chunk({"tool_calls": [c.to_dict(i) for i, c in enumerate(calls)]})
                    )
            elif isinstance(frame, Token):
                await send(ids.chunk({"content": frame.text}))
            elif isinstance(frame, Done):
                reply.done(frame)
                await send(ids.chunk({}, reply.finish))
                if request.include_usage:
                    await send(ids.chunk(None, usage_block=reply.usage))
                assert response is not None
                await response.write(DONE_EVENT)
                await response.write_eof()
                return response
            elif isinstance(frame, ProtocolError):
                error = turn_error(frame, self.config.gen_timeout_s)
                if response is None:
                    return error_response(error)
                await response.write(sse(error.to_dict()))
                await response.write_eof()
                return response
        raise RuntimeError("the turn ended without done or error")  # pragma: no cover
