"""The rules of one connection, sans I/O: dispatch (§4.2), sessions (§8), turns (§7).

``ConnectionMachine.receive(raw)`` turns one inbound text frame into a script of effects
(``bridge.protocol.effects``) that the socket shell (``bridge/connection.py``) carries out in
order: frames to send, a close, token-budget queries answered by the tokenizer model, a turn to
run as its own task, a warm-up to run off the receive loop. The shell awaits a script before it
reads the next frame; everything that may take long (a turn, a warm-up) is handed back as
``RunTurn`` / ``InBackground`` and runs beside the loop, so ``ping``, ``cancel`` and barge-in
are always handled at once.

States: the connection is ``OPEN`` until ``end``, a closing error or a disconnect makes it
``CLOSED`` (then every frame is ignored). Its current session's turn is *idle* or *running*.
What each message does (§4.2; the turn stops silently wherever it says "stop"):

=================  ===========================================  ============================
message            turn idle                                    turn running
=================  ===========================================  ============================
``ping``           ``pong``                                     same (the turn goes on)
``pong``           nothing                                      same
``end``            ``connection_closed``, close, forget session  stop first, then the same
``start``          validate, budgets, ``ack``, run the turn      barge-in: stop, then the same
``cancel``         ``done{cancelled}``                           stop, then ``done{cancelled}``
``warm_*``         warm off the loop, then ``warmed``            same (the turn goes on)
``chat_prompt``    update, trim history; warm, then ``ack``      same (the turn goes on)
``set_persona``    update, ``ack``                               same
``followup``       budgets, run a followup turn                  stop, then the same
anything else      ``unknown_message_type``                      same
=================  ===========================================  ============================

Rate limits (§10.1) are checked before the table. The user half of a turn is committed to the
history here, when the turn starts; the reply half in ``TurnMachine._finish``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from enum import Enum
from typing import Any

from bridge.protocol import errors
from bridge.protocol.config import BridgeConfig
from bridge.protocol.effects import (
    Close,
    Count,
    Effect,
    ExceedsTokens,
    HeadTokens,
    InBackground,
    RunTurn,
    Script,
    Send,
    TrimHistories,
    TrimText,
    Warm,
)
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
from bridge.protocol.messages import Pong as PongMessage
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.screen_context import router_context
from bridge.protocol.sessions import Session, SessionStore
from bridge.protocol.turn_machine import TurnMachine, TurnPlan, TurnRules, failure_frame
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
from common.generation import turn_sampling
from common.history import (
    HistoryTurn,
    SessionHistory,
    build_chat_messages,
    parse_history_text,
)


class ConnectionState(Enum):
    OPEN = "open"
    CLOSED = "closed"


def rules_from_config(config: BridgeConfig) -> TurnRules:
    return TurnRules(
        gen_timeout_s=config.gen_timeout_s,
        tool_timeout_s=config.tool_timeout_s,
        stream_flush_ms=config.stream_flush_ms,
        speculative=config.concurrent_model_call,
    )


class ConnectionMachine:
    """One WebSocket connection's protocol state; see the module docstring."""

    def __init__(
        self,
        config: BridgeConfig,
        sessions: SessionStore,
        *,
        phrase_bias: Mapping[str, float],
        rules: TurnRules | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.phrase_bias = dict(phrase_bias)
        self.rules = rules or rules_from_config(config)
        self.state = ConnectionState.OPEN
        self.session_id: str | None = None
        self._clock = clock
        self.last_activity = clock()  # what the idle watchdog reads (§10.2)
        self.message_limiter = SlidingWindowLimiter(
            config.ws_max_messages_per_window, config.ws_message_window_seconds, clock=clock
        )
        self.cancel_limiter = SlidingWindowLimiter(
            config.ws_max_cancels_per_window, config.ws_cancel_window_seconds, clock=clock
        )

    # -- state -------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self.state is ConnectionState.CLOSED

    @property
    def turn(self) -> TurnMachine | None:
        """The running turn of this connection's current session, if any."""
        session = self.sessions.get(self.session_id)
        turn = session.turn if session is not None else None
        if isinstance(turn, TurnMachine) and not turn.finished:
            return turn
        return None

    def disconnected(self) -> list[Effect]:
        """The socket is gone (for any reason): stop the turn, forget the session (§8.3)."""
        self.state = ConnectionState.CLOSED
        effects = self._stop_running(self.sessions.get(self.session_id))
        self.sessions.delete(self.session_id)
        return effects

    # -- inbound -----------------------------------------------------------------------------
    def receive(self, raw: str | bytes) -> Script:
        """The effects of one inbound frame (§4.1, §4.2)."""
        if self.closed:
            return
        if isinstance(raw, bytes):
            yield from self._send(binary_frame_error())
            return
        message = parse_client_message(
            raw,
            end_sentinel=self.config.ws_end_sentinel,
            cancel_sentinel=self.config.ws_cancel_sentinel,
        )
        if isinstance(message, ProtocolError):
            yield from self._send(message)  # invalid frames do not reset the idle timer
            return
        self.last_activity = self._clock()
        admitted = yield from self._admit(message)
        if not admitted:
            return
        handler = HANDLERS.get(type(message), ConnectionMachine._on_unknown)
        try:
            yield from handler(self, message)
        except Exception as exc:  # a gateway failure in a budget query, or a bug
            yield from self._send(failure_frame(exc))

    def _send(self, frame: Frame | ProtocolError) -> Script:
        if self.closed:
            return
        yield Send(frame)
        if isinstance(frame, ProtocolError) and frame.closes_connection:
            assert frame.close_code is not None
            self.state = ConnectionState.CLOSED
            yield Close(frame.close_code)

    def _admit(self, message: ClientMessage) -> Generator[Effect, Any, bool]:
        if message.limiter is None:
            return True
        kind = message.limiter
        limiter = self.cancel_limiter if kind == "cancel" else self.message_limiter
        rejected = limiter.attempt()
        if rejected is None:
            return True
        yield Count("rate_limited", {"limiter": kind})
        config = self.config
        if kind == "cancel":
            limit, window = config.ws_max_cancels_per_window, config.ws_cancel_window_seconds
        else:
            limit, window = config.ws_max_messages_per_window, config.ws_message_window_seconds
        yield from self._send(errors.rate_limited(kind, limit, window, rejected.retry_in))
        return False

    # -- helpers -----------------------------------------------------------------------------
    def _current(self) -> Session | None:
        return self.sessions.get(self.session_id)

    @staticmethod
    def _stop_running(session: Session | None) -> list[Effect]:
        turn = session.turn if session is not None else None
        if isinstance(turn, TurnMachine) and not turn.finished:
            return turn.stop()
        return []

    def _launch(self, session: Session, plan: TurnPlan) -> Script:
        yield from self._stop_running(session)  # another socket may have started one meanwhile
        turn = TurnMachine(plan, self.rules, clock=self._clock)
        session.turn = turn
        yield RunTurn(turn)

    def _sampling(self, session: Session) -> dict[str, Any]:
        return turn_sampling(
            self.config.sampling_defaults,
            session.sampling.sampling_parameters() if session.sampling else {},
            max_tokens=self.config.chat_max_out,
            phrase_bias=self.phrase_bias,
        )

    def _warm(self, messages: list[dict[str, str]], then: Frame) -> Script:
        """A warm-up (run in the background): prefill, then answer ``then`` or the failure."""
        try:
            if messages:
                yield Warm(tuple(messages), self.config.gen_timeout_s)
        except Exception as exc:
            yield from self._send(failure_frame(exc))
            return
        yield from self._send(then)

    # -- handlers (the table is HANDLERS below) ----------------------------------------------
    def _on_ping(self, message: ClientMessage) -> Script:
        yield from self._send(Pong())

    def _on_pong(self, message: ClientMessage) -> Script:
        return
        yield  # a generator that does nothing

    def _on_end(self, message: ClientMessage) -> Script:
        yield from self._send(ConnectionClosed())
        yield Close(self.config.ws_close_client_request_code)
        yield from self.disconnected()

    def _on_unknown(self, message: ClientMessage) -> Script:
        yield from self._send(errors.unknown_message_type(message.type))

    def _on_cancel(self, message: ClientMessage) -> Script:
        yield Count("cancels")
        yield from self._stop_running(self._current())
        yield from self._send(CancelledDone(request_id=message.request_id or None))

    def _on_start(self, message: ClientMessage) -> Script:
        assert isinstance(message, Start)
        received_at = self._clock()
        config = self.config
        session_id = read_session_id(message.fields)
        if isinstance(session_id, ProtocolError):
            yield from self._send(session_id)
            return
        # Barge-in runs before validation (§5.1.3): the socket's running turn stops silently.
        stopped = self._stop_running(self._current())
        if stopped:
            yield from stopped
            yield Count("barge_ins")
        self.session_id = session_id
        session = self.sessions.open(session_id)
        yield from self._stop_running(session)  # the same session may stream on another socket
        request = validate_start(message, config)
        if isinstance(request, ProtocolError):
            yield from self._send(request)
            return
        limit = config.chat_prompt_max_tokens
        if config.deploy_chat and request.chat_prompt is not None:
            too_long = yield ExceedsTokens(request.chat_prompt, limit)
            if too_long:
                yield from self._send(errors.chat_prompt_too_long(limit))
                return
        self._apply_start(session, request)
        utterance = request.user_utterance
        if utterance:
            utterance = yield HeadTokens(utterance, config.user_utt_max_tokens)
        before = session.history
        after, turn_id = before.with_user_turn(utterance, session.prefix_for_check(config))
        if config.deploy_chat:  # §8.2: the prompt's history and the stored one, one round trip
            before, after = yield TrimHistories((before, after), config.history_max_tokens)
        earlier = router_context(
            before.user_texts(), session.captures, session.prefix_for_followup(config)
        )
        session.history = after  # the user half of the turn
        yield from self._send(
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
            prompt_turns=before.turns,
            earlier_user_lines=earlier,
            sampling=self._sampling(session),
            sanitize=request.sanitize_output,
            decide_tool=config.deploy_tool,
            chat=config.deploy_chat,
            check_screen_prefix=session.prefix_for_check(config),
            include_timings=message.fields.get("include_timings") is True,
            received_at=received_at,
        )
        yield from self._launch(session, plan)

    def _apply_start(self, session: Session, request: StartRequest) -> None:
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

    def _on_followup(self, message: ClientMessage) -> Script:
        assert isinstance(message, Followup)
        received_at = self._clock()
        config = self.config
        session = self._current()
        request = validate_followup(
            message,
            config,
            has_session=session is not None,
            session_has_chat_prompt=bool(session and session.chat_prompt),
        )
        if not isinstance(request, FollowupRequest):
            yield from self._send(request)
            return
        assert session is not None
        yield from self._stop_running(session)
        utterance = followup_utterance(session.prefix_for_followup(config), request.analysis_text)
        utterance = yield HeadTokens(utterance, config.user_utt_max_tokens)
        before = session.history
        after, turn_id = before.with_user_turn(utterance, session.prefix_for_check(config))
        trimmed: tuple[SessionHistory, ...] = yield TrimHistories(
            (after,), config.history_max_tokens
        )
        session.history = trimmed[0]  # the user half of the turn
        plan = TurnPlan(
            label="followup",
            session=session,
            utterance=utterance,
            turn_id=turn_id,
            prompt_turns=before.turns,
            earlier_user_lines=[],
            sampling=self._sampling(session),
            sanitize=session.sampling is None or session.sampling.sanitizes_output,
            decide_tool=False,
            chat=True,
            check_screen_prefix=session.prefix_for_check(config),
            received_at=received_at,
        )
        yield from self._launch(session, plan)

    def _on_warm_persona(self, message: ClientMessage) -> Script:
        assert isinstance(message, WarmPersona)
        request = validate_warm_persona(message, self.config)
        if isinstance(request, ProtocolError):
            yield from self._send(request)
            return
        messages = [m.to_dict() for m in build_chat_messages(request.chat_prompt, [], None)]
        then = Warmed(segment="persona_static", bytes=request.bytes)
        yield InBackground(self._warm(messages, then))

    def _on_warm_history(self, message: ClientMessage) -> Script:
        assert isinstance(message, WarmHistory)
        request = validate_warm_history(message, self.config)
        if isinstance(request, ProtocolError):
            yield from self._send(request)
            return
        yield InBackground(self._warm_history(request.history_text))

    def _warm_history(self, history_text: str) -> Script:
        try:
            text: str = yield TrimText(history_text, self.config.history_max_tokens)
        except Exception as exc:
            yield from self._send(failure_frame(exc))
            return
        turns = [HistoryTurn(i, u, a) for i, (u, a) in enumerate(parse_history_text(text))]
        messages = [m.to_dict() for m in build_chat_messages(None, turns, None)]
        yield from self._warm(messages, Warmed(segment="history", bytes=len(text)))

    def _on_chat_prompt(self, message: ClientMessage) -> Script:
        assert isinstance(message, ChatPromptUpdate)
        config = self.config
        session = self._current()
        result = validate_chat_prompt_update(
            message,
            config,
            has_session=session is not None,
            stored_gender=session.gender if session else None,
            stored_personality=session.personality if session else None,
        )
        if not isinstance(result, ChatPromptChange):
            yield from self._send(result)
            return
        assert session is not None
        limit = config.chat_prompt_max_tokens
        too_long = yield ExceedsTokens(result.chat_prompt, limit)
        if too_long:
            yield from self._send(errors.chat_prompt_too_long_ack(limit))
            return
        rejected = session.persona_limiter.attempt()
        if rejected is not None:
            yield from self._send(
                errors.chat_prompt_rate_limited_ack(
                    config.chat_prompt_update_max_per_window,
                    config.chat_prompt_update_window_seconds,
                    rejected.retry_in,
                )
            )
            return
        session.gender, session.personality = result.gender, result.personality
        session.chat_prompt = result.chat_prompt
        trimmed: tuple[SessionHistory, ...] = yield TrimHistories(
            (session.history,), config.history_max_tokens
        )
        session.history = trimmed[0]
        messages = build_chat_messages(session.chat_prompt, session.history.turns, None)
        then = ChatPromptAck.updated(result.gender, result.personality)
        yield InBackground(self._warm([m.to_dict() for m in messages], then))

    def _on_set_persona(self, message: ClientMessage) -> Script:
        assert isinstance(message, SetPersona)
        session = self._current()
        change = validate_set_persona(message, self.config, has_session=session is not None)
        if isinstance(change, ProtocolError):
            yield from self._send(change)
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
        yield from self._send(
            SetPersonaAck(
                session_id=session.session_id,
                gender=session.gender or None,
                personality=session.personality or None,
                has_chat_prompt=bool(session.chat_prompt),
                changed=tuple(changed),
            )
        )


Handler = Callable[[ConnectionMachine, ClientMessage], Script]

# What each message type does (the table of the module docstring).
HANDLERS: dict[type[ClientMessage], Handler] = {
    Ping: ConnectionMachine._on_ping,
    PongMessage: ConnectionMachine._on_pong,
    End: ConnectionMachine._on_end,
    Start: ConnectionMachine._on_start,
    Cancel: ConnectionMachine._on_cancel,
    WarmPersona: ConnectionMachine._on_warm_persona,
    WarmHistory: ConnectionMachine._on_warm_history,
    ChatPromptUpdate: ConnectionMachine._on_chat_prompt,
    Followup: ConnectionMachine._on_followup,
    SetPersona: ConnectionMachine._on_set_persona,
}
