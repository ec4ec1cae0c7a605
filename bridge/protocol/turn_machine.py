"""The rules of one turn, sans I/O: tool decision first, then the cleaned chat stream (§7).

How a front door drives a turn (the WebSocket shell in ``bridge/turn.py`` does exactly this; an
HTTP door such as ``/v1/chat/completions`` can do the same):

1. Build a ``TurnPlan`` (the session, the utterance after its token cut, the history before
   it, the sampling from ``turn_sampling``) and a ``TurnMachine(plan, rules)``.
2. Iterate ``machine.run()``: every value it yields is an ``effects.Effect``. Carry it out and
   ``send()`` the answer back (``None`` for commands). Gateway failures are *thrown* into the
   generator (``EngineUnavailable``, ``EngineRequestError``, ``TimeoutError``): the machine
   answers them with the protocol's error frame.
3. ``Send`` effects carry the frames, already in wire order: ``toolcall`` (when a tool is
   decided) strictly before the first ``token``, then ``final`` and ``done``, or one error
   frame; nothing after ``done`` or the error. A door that speaks another format translates
   these frames one by one.
4. To stop the turn (cancel, barge-in, disconnect) call ``machine.stop()`` and carry out what
   it returns (``AbortTurn``: cancel the task, the classifier call and every chat stream);
   the machine sends nothing more, and the reply delivered so far is committed to the history.

State of a turn::

    DECIDING --toolcall--> STREAMING --final, done--> DONE
        |                      |
        +---- error frame -----+-----> FAILED
        +------ stop() --------+-----> STOPPED      (silent)

The reply is committed to the session history in exactly one place (``_finish``), whichever
way the turn ends; the user half is committed by ``connection_machine`` when the turn starts.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bridge.protocol import errors
from bridge.protocol.cleaner import output_stream
from bridge.protocol.effects import (
    AbortTurn,
    ChatDelta,
    Classify,
    CloseChat,
    Count,
    Effect,
    EngineRequestError,
    EngineUnavailable,
    NextDelta,
    Observe,
    OpenChat,
    Script,
    Send,
    TurnFinished,
)
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Done, Final, Frame, Token, ToolCall
from bridge.protocol.phrases import match_phrase, toolcall_from_text
from bridge.protocol.sessions import Session
from common.history import HistoryTurn, build_chat_messages, with_check_screen_prefix

TAKE_SCREENSHOT = '[{"name": "take_screenshot"}]'
NO_TOOL = "[]"
# What done.timings carries from the chat model's stats (the OpenAI door reads usage and the
# finish reason from here).
STAT_KEYS = (
    "engine_ttft_ms",
    "model_ttft_ms",
    "num_input_tokens",
    "num_cached_tokens",
    "num_output_tokens",
    "finish_reason",
    "timeline",
)


def failure_frame(exc: BaseException) -> ProtocolError:
    """The error frame for a failure outside a turn (a warm-up, a budget round trip; §4.2)."""
    if isinstance(exc, EngineUnavailable):
        return errors.engine_unavailable(str(exc))
    if isinstance(exc, EngineRequestError):
        return errors.internal_error(str(exc))
    return errors.internal_error(f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class TurnRules:
    """The settings a turn obeys (from ``BridgeConfig``)."""

    gen_timeout_s: float
    tool_timeout_s: float
    stream_flush_ms: float = 0.0
    speculative: bool = False  # CONCURRENT_MODEL_CALL: start the chat while the tool decides


@dataclass
class TurnPlan:
    """Everything a turn needs, fixed when it starts."""

    label: str  # "start" or "followup" (logs and metrics)
    session: Session
    utterance: str  # the user text as the model sees it (before any check-screen prefix)
    turn_id: int | None  # the history turn that receives the reply
    prompt_turns: tuple[HistoryTurn, ...]  # history before this turn (for the chat prompt)
    earlier_user_lines: list[dict[str, Any]]  # the classifier's context (router_context)
    sampling: dict[str, Any]
    sanitize: bool
    decide_tool: bool
    chat: bool
    check_screen_prefix: str
    include_timings: bool = False  # extension: done.timings for benchmarks
    received_at: float = field(default_factory=time.monotonic)


class TurnState(Enum):
    DECIDING = "deciding"  # before the toolcall frame (or before the chat, without a tool)
    STREAMING = "streaming"
    DONE = "done"
    FAILED = "failed"
    STOPPED = "stopped"


FINISHED = (TurnState.DONE, TurnState.FAILED, TurnState.STOPPED)


class TurnMachine:
    """One turn; see the module docstring for how to drive it."""

    def __init__(
        self,
        plan: TurnPlan,
        rules: TurnRules,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.rules = rules
        self.state = TurnState.DECIDING
        self.delivered: list[str] = []
        self.outcome: str | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self._first_token_at: float | None = None
        self.work: Any = None  # the shell's handle on the running task and streams
        # Wall-clock marks (comparable with the chat model's) for benchmarks' breakdowns.
        self.timings: dict[str, Any] = {
            "received_wall": wall_clock() - (clock() - plan.received_at)
        }

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    # -- stopping ----------------------------------------------------------------------------
    def stop(self) -> list[Effect]:
        """Cancel, barge-in, end or disconnect: silent; the delivered text becomes the reply."""
        if self.finished:
            return []
        return [AbortTurn(self), *self._finish(TurnState.STOPPED, "cancelled")]

    def _finish(self, state: TurnState, outcome: str) -> list[Effect]:
        """The one place a turn ends: commit the reply, release the session, count it."""
        if self.finished:  # stopped while its last frame was being sent
            return []
        self.state, self.outcome = state, outcome
        plan = self.plan
        if plan.turn_id is not None and self.delivered:
            text = "".join(self.delivered)
            plan.session.history = plan.session.history.with_assistant_text(plan.turn_id, text)
        if plan.session.turn is self:
            plan.session.turn = None
        return [TurnFinished(self, outcome)]

    # -- running -----------------------------------------------------------------------------
    def run(self) -> Script:
        plan = self.plan
        try:
            chat: Any = None
            if plan.chat and plan.decide_tool and self.rules.speculative:
                chat = yield self._open_chat(with_prefix=False)
            tool: ToolCall | None = None
            if plan.decide_tool:
                tool = yield from self._decide_tool()
                tool_s = self._clock() - plan.received_at
                yield Observe("tool_decision", tool_s)
                self.timings["tool_ms"] = round(tool_s * 1000.0, 3)
                yield from self._send(tool)
            if not self.finished:
                self.state = TurnState.STREAMING
            if plan.chat:
                screen = tool is not None and tool.status == "yes"
                if chat is not None and screen:
                    yield CloseChat(chat)  # the model must see the check-screen prefix: start over
                    chat = None
                if chat is None:
                    chat = yield self._open_chat(with_prefix=screen)
                yield from self._stream(chat)
            else:
                yield from self._send(Final(""))
                yield from self._send(Done(self.timings if plan.include_timings else None))
            outcome, state = "ok", TurnState.DONE
        except EngineUnavailable as exc:
            error = errors.engine_unavailable(str(exc))
        except EngineRequestError as exc:
            error = errors.internal_error(f"chat engine error: {exc}")
        except TimeoutError:
            error = errors.generation_timeout(self.rules.gen_timeout_s)
        except Exception as exc:
            error = errors.internal_error(f"{type(exc).__name__}: {exc}")
        else:
            yield from self._finish(state, outcome)
            return
        yield from self._send(error)
        yield from self._finish(TurnState.FAILED, str(error.error_code))

    def _send(self, frame: Frame | ProtocolError) -> Script:
        if not self.finished:  # a stopped turn sends nothing more
            yield Send(frame)

    def _decide_tool(self) -> Generator[Effect, Any, ToolCall]:
        plan = self.plan
        text = match_phrase(plan.utterance, plan.session.personalities)
        if text is None:
            if not plan.utterance.strip():
                text = NO_TOOL
            else:
                try:
                    yes = yield Classify(
                        plan.utterance, plan.earlier_user_lines, self.rules.tool_timeout_s
                    )
                    text = TAKE_SCREENSHOT if yes else NO_TOOL
                except TimeoutError:
                    yield Count("tool_timeouts")
                    text = NO_TOOL  # §7.1: a slow classifier means "no", not a failed turn
        if text == TAKE_SCREENSHOT:
            plan.session.captures.remember(plan.utterance)
        return toolcall_from_text(text)

    def _open_chat(self, *, with_prefix: bool) -> OpenChat:
        plan = self.plan
        user_text = plan.utterance
        if with_prefix:
            user_text = with_check_screen_prefix(plan.utterance, plan.check_screen_prefix)
        messages = build_chat_messages(plan.session.chat_prompt, plan.prompt_turns, user_text)
        started_ms = round((self._clock() - plan.received_at) * 1000.0, 3)
        self.timings["chat_started_ms"] = started_ms
        return OpenChat(
            tuple(m.to_dict() for m in messages),
            plan.sampling,
            request_id=f"{plan.session.session_id}:{plan.turn_id}:{uuid.uuid4().hex[:12]}",
        )

    def _stream(self, chat: Any) -> Script:
        output = output_stream(self.plan.sanitize)
        flush_s = self.rules.stream_flush_ms / 1000.0
        deadline = self._clock() + self.rules.gen_timeout_s
        pending = ""
        last_flush = self._clock()
        while True:
            delta: ChatDelta | None = yield NextDelta(chat, deadline - self._clock())
            if delta is None:
                raise EngineUnavailable("the chat stream ended early (Triton went away)")
            piece = output.feed(delta.text)
            if delta.final:
                piece += output.finish()
            if piece:
                if flush_s > 0:
                    pending += piece
                    now = self._clock()
                    if now - last_flush >= flush_s:
                        yield from self._token(pending)
                        pending, last_flush = "", now
                else:
                    yield from self._token(piece)
            if delta.final:
                for key in STAT_KEYS:
                    if delta.stats and key in delta.stats:
                        self.timings[key] = delta.stats[key]
                break
        if pending:
            yield from self._token(pending)
        yield from self._send(Final("".join(self.delivered)))
        yield from self._send(Done(self.timings if self.plan.include_timings else None))

    def _token(self, text: str) -> Script:
        if self.finished:
            return
        self.delivered.append(text)  # handed to the shell: it is the client's now
        yield Send(Token(text))
        if self._first_token_at is None:
            self._first_token_at = self._clock()
            ttft = self._first_token_at - self.plan.received_at
            yield Observe("chat_ttft", ttft)
            self.timings["bridge_ttft_ms"] = round(ttft * 1000.0, 3)
            self.timings["first_token_sent_wall"] = self._wall_clock()
