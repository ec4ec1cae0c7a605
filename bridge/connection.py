"""One WebSocket connection: the receive loop, dispatch (§4.2) and the idle watchdog (§10.2).

Parsing and validation are the pure functions of ``bridge.protocol``; this module does the
I/O around them: it reads frames, asks Triton for token counts, warm-ups and turns, and writes
frames. ``start`` and ``followup`` turns run as background tasks so that ``ping``, ``cancel``
and barge-in are handled while a turn streams.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any, Literal

from bridge.protocol import errors
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import (
    CancelledDone,
    ChatPromptAck,
    ConnectionClosed,
    Frame,
    Pong,
    SetPersonaAck,
    StartAck,
    Warmed,
)
from bridge.protocol.generation import chat_sampling, warm_sampling
from bridge.protocol.history import HistoryTurn, build_chat_messages, parse_history_text
from bridge.protocol.messages import (
    Cancel,
    ChatPromptUpdate,
    ClientMessage,
    End,
    Followup,
    Ping,
    SetPersona,
    Start,
    WarmHistory,
    WarmPersona,
    binary_frame_error,
    parse_client_message,
)
from bridge.protocol.messages import (
    Pong as PongMessage,
)
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.sampling import SamplingOverrides
from bridge.protocol.screen_context import router_context
from bridge.protocol.validation import (
    ChatPromptChange,
    FollowupRequest,
    StartRequest,
    followup_utterance,
    read_session_id,
    validate_chat_prompt_update,
    validate_followup,
    validate_set_persona,
    validate_start,
    validate_warm_history,
    validate_warm_persona,
)
from bridge.session import Session
from bridge.triton_gateway import TritonRequestError, TritonUnavailable
from bridge.turn import Turn, TurnHandle, TurnPlan, start_turn

if TYPE_CHECKING:
    from bridge.server import BridgeApp

log = logging.getLogger("yap.bridge.connection")


class ConnectionClosing(Exception):
    """Raised inside the loop when a frame closed the socket."""


class Connection:
    def __init__(self, app: BridgeApp, websocket: Any, peer: str) -> None:
        self.app = app
        self.config = app.config
        self.ws = websocket
        self.peer = peer
        self.session_id: str | None = None
        self.last_activity = time.monotonic()
        self.closing = False
        self._handling = 0  # messages being handled now (a drain waits for them)
        self.message_limiter = SlidingWindowLimiter(
            self.config.ws_max_messages_per_window, self.config.ws_message_window_seconds
        )
        self.cancel_limiter = SlidingWindowLimiter(
            self.config.ws_max_cancels_per_window, self.config.ws_cancel_window_seconds
        )

    # -- output ------------------------------------------------------------------------------
    async def emit(self, frame: Frame | ProtocolError) -> None:
        if self.closing:
            return
        if isinstance(frame, ProtocolError):
            self.app.metrics.errors.labels(error_code=str(frame.error_code or "none")).inc()
            await self._send(frame.to_json())
            if frame.closes_connection:
                assert frame.close_code is not None
                await self.close(frame.close_code)
            return
        await self._send(frame.to_json())

    async def _send(self, text: str) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            await self.ws.send(text)
        except ConnectionClosed:
            self.closing = True

    async def close(self, code: int, reason: str = "") -> None:
        self.closing = True
        with contextlib.suppress(Exception):
            await self.ws.close(code, reason)

    @property
    def busy(self) -> bool:
        """A message is being handled or a turn runs: a drain lets it finish."""
        session = self._current()
        turn = session.turn if session is not None else None
        return self._handling > 0 or (turn is not None and not turn.finished)

    # -- lifecycle ---------------------------------------------------------------------------
    async def run(self) -> None:
        from websockets.exceptions import ConnectionClosed

        watchdog = asyncio.get_running_loop().create_task(self._watchdog())
        try:
            async for raw in self.ws:
                await self.on_frame(raw)
                if self.closing:
                    break
        except ConnectionClosed:
            pass
        finally:
            watchdog.cancel()
            self.cleanup()

    def cleanup(self) -> None:
        """Disconnect for any reason: stop the session's work and forget its state (§8.3)."""
        session = self.app.sessions.get(self.session_id)
        if session is not None and session.turn is not None:
            session.turn.abort()
        self.app.sessions.delete(self.session_id)

    async def _watchdog(self) -> None:
        timeout = self.config.ws_idle_timeout_s
        tick = max(0.05, self.config.ws_watchdog_tick_s)
        if timeout <= 0:
            return
        while not self.closing:
            await asyncio.sleep(tick)
            if time.monotonic() - self.last_activity >= timeout:
                log.info("idle timeout peer=%s session=%s", self.peer, self.session_id)
                await self.close(self.config.ws_close_idle_code, self.config.ws_close_idle_reason)
                return

    # -- dispatch (§4.2) ---------------------------------------------------------------------
    async def on_frame(self, raw: str | bytes) -> None:
        if isinstance(raw, bytes):
            await self.emit(binary_frame_error())
            return
        message = parse_client_message(
            raw,
            end_sentinel=self.config.ws_end_sentinel,
            cancel_sentinel=self.config.ws_cancel_sentinel,
        )
        if isinstance(message, ProtocolError):
            await self.emit(message)
            return
        self.last_activity = time.monotonic()
        if not await self._admit(message):
            return
        self._handling += 1
        try:
            await self.dispatch(message)
        except TritonUnavailable as exc:
            await self.emit(errors.engine_unavailable(str(exc)))
        except TritonRequestError as exc:
            await self.emit(errors.internal_error(str(exc)))
        except Exception as exc:
            log.exception("message handling failed peer=%s type=%s", self.peer, message.type)
            await self.emit(errors.internal_error(f"{type(exc).__name__}: {exc}"))
        finally:
            self._handling -= 1

    async def _admit(self, message: ClientMessage) -> bool:
        limiter = {"message": self.message_limiter, "cancel": self.cancel_limiter}.get(
            message.limiter or ""
        )
        if limiter is None:
            return True
        rejected = limiter.attempt()
        if rejected is None:
            return True
        kind: Literal["message", "cancel"] = (
            "cancel" if limiter is self.cancel_limiter else "message"
        )
        self.app.metrics.rate_limited.labels(limiter=kind).inc()
        if kind == "cancel":
            limit, window = (
                self.config.ws_max_cancels_per_window,
                self.config.ws_cancel_window_seconds,
            )
        else:
            limit, window = (
                self.config.ws_max_messages_per_window,
                self.config.ws_message_window_seconds,
            )
        await self.emit(errors.rate_limited(kind, limit, window, rejected.retry_in))
        return False

    async def dispatch(self, message: ClientMessage) -> None:
        if isinstance(message, Ping):
            await self.emit(Pong())
        elif isinstance(message, PongMessage):
            return
        elif isinstance(message, End):
            await self.emit(ConnectionClosed())
            await self.close(self.config.ws_close_client_request_code)
            self.cleanup()
        elif isinstance(message, Start):
            await self.on_start(message)
        elif isinstance(message, Cancel):
            await self.on_cancel(message)
        elif isinstance(message, WarmPersona):
            await self.on_warm_persona(message)
        elif isinstance(message, WarmHistory):
            await self.on_warm_history(message)
        elif isinstance(message, ChatPromptUpdate):
            await self.on_chat_prompt(message)
        elif isinstance(message, Followup):
            await self.on_followup(message)
        elif isinstance(message, SetPersona):
            await self.on_set_persona(message)
        else:
            await self.emit(errors.unknown_message_type(message.type))

    # -- handlers ----------------------------------------------------------------------------
    def _current(self) -> Session | None:
        return self.app.sessions.get(self.session_id)

    def _abort_running(self, session: Session | None) -> bool:
        if session is not None and session.turn is not None and not session.turn.finished:
            session.turn.abort()
            session.turn = None
            return True
        return False

    async def on_start(self, message: Start) -> None:
        received_at = time.monotonic()
        config = self.config
        session_id = read_session_id(message.fields)
        if isinstance(session_id, ProtocolError):
            await self.emit(session_id)
            return
        # Barge-in runs before validation (§5.1.3): the socket's running turn stops silently.
        if self._abort_running(self._current()):
            self.app.metrics.barge_ins.inc()
        self.session_id = session_id
        session = self.app.sessions.open(session_id)
        self._abort_running(session)  # the same session may be streaming on another socket
        request = validate_start(message, config)
        if isinstance(request, ProtocolError):
            await self.emit(request)
            return
        limit = config.chat_prompt_max_tokens
        if (
            config.deploy_chat
            and request.chat_prompt is not None
            and await self.app.budgets.exceeds(request.chat_prompt, limit)
        ):
            await self.emit(errors.chat_prompt_too_long(limit))
            return
        await self._apply_start(session, request)
        utterance = request.user_utterance
        if utterance:
            utterance = await self.app.budgets.head(utterance, config.user_utt_max_tokens)
        prompt_turns = session.history.turns
        earlier = router_context(
            session.history.user_texts(), session.captures, session.prefix_for_followup(config)
        )
        session.history, turn_id = session.history.with_user_turn(
            utterance, session.prefix_for_check(config)
        )
        if config.deploy_chat:
            session.history = await self.app.budgets.trim_history(
                session.history, config.history_max_tokens
            )
        await self.emit(
            StartAck(
                session_id=session.session_id,
                now=session.now,
                gender=session.gender,
                personality=session.personality,
                chat_prompt=bool(session.chat_prompt),
            )
        )
        plan = TurnPlan(
            label="start",
            session=session,
            utterance=utterance,
            turn_id=turn_id,
            prompt_turns=prompt_turns,
            earlier_user_lines=earlier,
            sampling=self._sampling(session.sampling),
            sanitize=request.sanitize_output,
            decide_tool=config.deploy_tool,
            chat=config.deploy_chat,
            check_screen_prefix=session.prefix_for_check(config),
            include_timings=message.fields.get("include_timings") is True,
            received_at=received_at,
        )
        self._launch(session, plan)

    async def _apply_start(self, session: Session, request: StartRequest) -> None:
        session.gender = request.gender
        session.personality = request.personality
        if self.config.deploy_chat:
            session.chat_prompt = request.chat_prompt
        session.sampling = request.sampling
        if request.check_screen_prefix is not None:
            session.check_screen_prefix = request.check_screen_prefix
        if request.screen_checked_prefix is not None:
            session.screen_checked_prefix = request.screen_checked_prefix
        if request.personalities is not None:
            session.personalities = request.personalities
        if request.history_text is not None:
            session.history = session.history.replaced_from_text(request.history_text)
        if self.config.deploy_chat:
            session.history = await self.app.budgets.trim_history(
                session.history, self.config.history_max_tokens
            )

    def _sampling(self, overrides: SamplingOverrides | None) -> dict[str, Any]:
        config = self.config
        values: dict[str, Any] = {
            key: config.sampling_default(key)
            for key in (
                "temperature",
                "top_p",
                "top_k",
                "min_p",
                "repetition_penalty",
                "presence_penalty",
                "frequency_penalty",
            )
        }
        if overrides is not None:
            values.update(overrides.sampling_parameters())
        return chat_sampling(
            values, max_tokens=config.chat_max_out, phrase_bias=self.app.phrase_bias
        )

    def _launch(self, session: Session, plan: TurnPlan) -> None:
        handle = TurnHandle()
        turn = Turn(
            plan,
            handle,
            config=self.config,
            gateway=self.app.gateway,
            emit=self.emit,
            metrics=self.app.metrics,
            phrase_bias=self.app.phrase_bias,
            speculative=self.app.speculative,
        )
        session.turn = handle
        start_turn(turn)

    async def on_cancel(self, message: Cancel) -> None:
        self.app.metrics.cancels.inc()
        self._abort_running(self._current())
        await self.emit(CancelledDone(request_id=message.request_id or None))

    async def _warm(self, messages: list[dict[str, str]]) -> None:
        """One greedy token at warm priority: fills the prefix cache, nothing else."""
        stream = self.app.gateway.chat_stream(messages, warm_sampling())
        async with asyncio.timeout(self.config.gen_timeout_s):
            async for delta in stream:
                if delta.final:
                    break

    async def on_warm_persona(self, message: WarmPersona) -> None:
        request = validate_warm_persona(message, self.config)
        if isinstance(request, ProtocolError):
            await self.emit(request)
            return
        await self._warm([m.to_dict() for m in build_chat_messages(request.chat_prompt, [], None)])
        await self.emit(Warmed(segment="persona_static", bytes=request.bytes))

    async def on_warm_history(self, message: WarmHistory) -> None:
        request = validate_warm_history(message, self.config)
        if isinstance(request, ProtocolError):
            await self.emit(request)
            return
        text = await self.app.budgets.trim_text(
            request.history_text, self.config.history_max_tokens
        )
        turns = [HistoryTurn(i, u, a) for i, (u, a) in enumerate(parse_history_text(text))]
        messages = [m.to_dict() for m in build_chat_messages(None, turns, None)]
        if messages:
            await self._warm(messages)
        await self.emit(Warmed(segment="history", bytes=len(text)))

    async def on_chat_prompt(self, message: ChatPromptUpdate) -> None:
        session = self._current()
        result = validate_chat_prompt_update(
            message,
            self.config,
            has_session=session is not None,
            stored_gender=session.gender if session else None,
            stored_personality=session.personality if session else None,
        )
        if not isinstance(result, ChatPromptChange):
            await self.emit(result)
            return
        assert session is not None
        limit = self.config.chat_prompt_max_tokens
        if await self.app.budgets.exceeds(result.chat_prompt, limit):
            await self.emit(errors.chat_prompt_too_long_ack(limit))
            return
        rejected = session.persona_limiter.attempt()
        if rejected is not None:
            await self.emit(
                errors.chat_prompt_rate_limited_ack(
                    self.config.chat_prompt_update_max_per_window,
                    self.config.chat_prompt_update_window_seconds,
                    rejected.retry_in,
                )
            )
            return
        session.gender, session.personality = result.gender, result.personality
        session.chat_prompt = result.chat_prompt
        session.history = await self.app.budgets.trim_history(
            session.history, self.config.history_max_tokens
        )
        messages = build_chat_messages(session.chat_prompt, session.history.turns, None)
        await self._warm([m.to_dict() for m in messages])
        await self.emit(ChatPromptAck.updated(result.gender, result.personality))

    async def on_set_persona(self, message: SetPersona) -> None:
        session = self._current()
        change = validate_set_persona(message, self.config, has_session=session is not None)
        if isinstance(change, ProtocolError):
            await self.emit(change)
            return
        assert session is not None
        changed: list[tuple[str, Any]] = []
        if change.gender is not None:
            session.gender = change.gender
            changed.append(("gender", change.gender))
        if change.personality is not None:
            session.personality = change.personality
            changed.append(("personality", change.personality))
        if change.replaces_chat_prompt:
            session.chat_prompt = change.chat_prompt
            changed.append(("chat_prompt", change.chat_prompt is not None))
        await self.emit(
            SetPersonaAck(
                session_id=session.session_id,
                gender=session.gender or None,
                personality=session.personality or None,
                has_chat_prompt=bool(session.chat_prompt),
                changed=tuple(changed),
            )
        )

    async def on_followup(self, message: Followup) -> None:
        session = self._current()
        request = validate_followup(
            message,
            self.config,
            has_session=session is not None,
            session_has_chat_prompt=bool(session and session.chat_prompt),
        )
        if not isinstance(request, FollowupRequest):
            await self.emit(request)
            return
        assert session is not None
        self._abort_running(session)
        utterance = followup_utterance(
            session.prefix_for_followup(self.config), request.analysis_text
        )
        utterance = await self.app.budgets.head(utterance, self.config.user_utt_max_tokens)
        prompt_turns = session.history.turns
        session.history, turn_id = session.history.with_user_turn(
            utterance, session.prefix_for_check(self.config)
        )
        session.history = await self.app.budgets.trim_history(
            session.history, self.config.history_max_tokens
        )
        plan = TurnPlan(
            label="followup",
            session=session,
            utterance=utterance,
            turn_id=turn_id,
            prompt_turns=prompt_turns,
            earlier_user_lines=[],
            sampling=self._sampling(session.sampling),
            sanitize=session.sampling is None or session.sampling.sanitizes_output,
            decide_tool=False,
            chat=True,
            check_screen_prefix=session.prefix_for_check(self.config),
        )
        self._launch(session, plan)
