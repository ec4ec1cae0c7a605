"""The turn machine (bridge/protocol/turn_machine.py) driven directly: no asyncio, no Triton."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

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
    Send,
    TurnFinished,
)
from bridge.protocol.errors import ProtocolError
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.sessions import Session
from bridge.protocol.turn_machine import TurnMachine, TurnPlan, TurnRules, TurnState
from common.history import SessionHistory
from tests.machine_driver import Answer, Clock, drive, frames, types

RULES = TurnRules(gen_timeout_s=60.0, tool_timeout_s=2.0)


def make_turn(
    utterance: str = "hello there",
    *,
    decide_tool: bool = True,
    chat: bool = True,
    rules: TurnRules = RULES,
    clock: Clock | None = None,
) -> TurnMachine:
    session = Session("s1", "now", SlidingWindowLimiter(0, 0), chat_prompt="You are nice.")
    session.history, turn_id = SessionHistory().with_user_turn(utterance, "CHECK SCREEN")
    plan = TurnPlan(
        label="start",
        session=session,
        utterance=utterance,
        turn_id=turn_id,
        prompt_turns=(),
        earlier_user_lines=[],
        sampling={"temperature": 0.5},
        sanitize=True,
        decide_tool=decide_tool,
        chat=chat,
        check_screen_prefix="CHECK SCREEN",
        received_at=(clock or Clock())(),
    )
    turn = TurnMachine(plan, rules, clock=clock or Clock(), wall_clock=lambda: 0.0)
    session.turn = turn
    return turn


def gateway(
    pieces: list[str], *, screen: bool | BaseException = False
) -> tuple[Answer, list[OpenChat]]:
    """Answers like a healthy Triton: the classifier says ``screen``, each chat streams pieces."""
    opened: list[OpenChat] = []
    streams: dict[int, list[ChatDelta]] = {}

    def answer(effect: Effect) -> Any:
        if isinstance(effect, Classify):
            return screen
        if isinstance(effect, OpenChat):
            opened.append(effect)
            handle = len(opened)
            streams[handle] = [
                ChatDelta(p, final=i == len(pieces) - 1) for i, p in enumerate(pieces)
            ]
            return handle
        if isinstance(effect, NextDelta):
            stream = streams[effect.chat]
            return stream.pop(0) if stream else None
        return None

    return answer, opened


def test_both_mode_toolcall_then_tokens_final_done_and_the_reply_is_committed() -> None:
    turn = make_turn()
    answer, opened = gateway(["Hi ", "there", "!"])
    effects = drive(turn.run(), answer)
    assert types(effects) == ["toolcall", "token", "token", "token", "final", "done"]
    found = frames(effects)
    assert found[0] == {"type": "toolcall", "status": "no", "raw": []}
    assert found[-2]["normalized_text"] == "Hi there!"
    assert turn.state is TurnState.DONE and turn.finished
    assert turn.plan.session.history.turns[-1].assistant == "Hi there!"
    assert turn.plan.session.turn is None
    assert TurnFinished(turn, "ok") in effects
    assert [e.metric for e in effects if isinstance(e, Observe)] == ["tool_decision", "chat_ttft"]
    assert len(opened) == 1 and opened[0].messages[-1] == {"role": "user", "content": "hello there"}


def test_a_yes_adds_the_check_screen_prefix_and_remembers_the_capture() -> None:
    turn = make_turn("look at this")
    answer, opened = gateway(["Nice."], screen=True)
    effects = drive(turn.run(), answer)
    assert frames(effects)[0]["status"] == "yes"
    assert opened[0].messages[-1]["content"].startswith("CHECK SCREEN")
    assert turn.plan.session.captures  # the router's yes is remembered for its context


def test_speculative_chat_starts_before_the_decision_and_restarts_on_yes() -> None:
    turn = make_turn("look at this", rules=TurnRules(60.0, 2.0, speculative=True))
    answer, opened = gateway(["Nice."], screen=True)
    effects = drive(turn.run(), answer)
    kinds = [type(e).__name__ for e in effects]
    assert kinds.index("OpenChat") < kinds.index("Classify") < kinds.index("CloseChat")
    assert [e.chat for e in effects if isinstance(e, CloseChat)] == [1]
    assert len(opened) == 2 and opened[1].messages[-1]["content"].startswith("CHECK SCREEN")
    assert types(effects) == ["toolcall", "token", "final", "done"]


def test_speculative_chat_is_kept_on_no() -> None:
    turn = make_turn(rules=TurnRules(60.0, 2.0, speculative=True))
    answer, opened = gateway(["Fine."])
    effects = drive(turn.run(), answer)
    assert len(opened) == 1 and not any(isinstance(e, CloseChat) for e in effects)


def test_a_slow_classifier_means_no() -> None:
    turn = make_turn()
    answer, _ = gateway(["ok"], screen=TimeoutError())
    effects = drive(turn.run(), answer)
    assert frames(effects)[0]["status"] == "no"
    assert Count("tool_timeouts") in effects
    assert types(effects)[-2:] == ["final", "done"]


def test_a_phrase_rule_decides_without_the_classifier() -> None:
    turn = make_turn("take a screenshot")
    answer, _ = gateway(["ok"])
    effects = drive(turn.run(), answer)
    assert not any(isinstance(e, Classify) for e in effects)
    assert frames(effects)[0]["status"] == "yes"


def test_chat_mode_sends_no_toolcall_and_tool_mode_no_text() -> None:
    answer, _ = gateway(["Hey."])
    assert types(drive(make_turn(decide_tool=False).run(), answer)) == ["token", "final", "done"]
    tool_only = drive(make_turn(chat=False).run(), answer)
    assert types(tool_only) == ["toolcall", "final", "done"]
    assert frames(tool_only)[1] == {"type": "final", "normalized_text": ""}


def test_engine_failure_mid_stream_ends_with_one_error_and_keeps_the_delivered_text() -> None:
    turn = make_turn()
    answer, _ = gateway(["Hello ", "wor", "ld"])
    calls = {"n": 0}

    def failing(effect: Effect) -> Any:
        if isinstance(effect, NextDelta):
            calls["n"] += 1
            if calls["n"] == 2:
                return EngineUnavailable("chat: Triton is restarting")
        return answer(effect)

    effects = drive(turn.run(), failing)
    assert types(effects) == ["toolcall", "token", "error"]
    assert frames(effects)[-1]["error_code"] == "engine_unavailable"
    assert turn.state is TurnState.FAILED and turn.outcome == "engine_unavailable"
    assert turn.plan.session.history.turns[-1].assistant == frames(effects)[1]["text"] == "Hello"


def test_request_error_timeout_and_early_end_have_their_codes() -> None:
    cases = [
        (EngineRequestError("bad"), "internal_error"),
        (TimeoutError(), "generation_timeout"),
        (None, "engine_unavailable"),  # the stream ended without a final delta
        (ValueError("bug"), "internal_error"),
    ]
    for failure, code in cases:
        turn = make_turn()
        answer, _ = gateway(["x"])

        def failing(effect: Effect, failure: Any = failure, answer: Answer = answer) -> Any:
            return failure if isinstance(effect, NextDelta) else answer(effect)

        effects = drive(turn.run(), failing)
        assert types(effects)[-1] == "error" and frames(effects)[-1]["error_code"] == code
        assert turn.plan.session.history.turns[-1].assistant == ""


def test_stop_is_silent_aborts_the_work_and_commits_what_was_delivered() -> None:
    turn = make_turn()
    answer, _ = gateway(["one ", "two ", "three"])
    script = turn.run()
    effects = drive(script, answer, stop_after=6)  # classify, observe, toolcall, open, next, token
    assert types(effects) == ["toolcall", "token"]
    stopped = turn.stop()
    assert stopped[0] == AbortTurn(turn) and TurnFinished(turn, "cancelled") in stopped
    assert turn.state is TurnState.STOPPED and turn.plan.session.turn is None
    assert turn.plan.session.history.turns[-1].assistant == frames(effects)[1]["text"]
    assert turn.stop() == []  # stopping twice does nothing


def test_a_stopped_turn_that_is_resumed_sends_nothing_more() -> None:
    """Even a shell that keeps driving a stopped turn gets no frame from it."""
    turn = make_turn()
    answer, _ = gateway(["one ", "two ", "three"])
    script = turn.run()
    seen: list[Effect] = []

    def stopping(effect: Effect) -> Any:
        seen.append(effect)
        if isinstance(effect, Send) and json.loads(effect.frame.to_json())["type"] == "token":
            turn.stop()
        return answer(effect)

    drive(script, stopping)
    assert types(seen) == ["toolcall", "token"]
    assert turn.outcome == "cancelled"


def test_stream_flush_coalesces_pieces_by_time() -> None:
    clock = Clock()
    turn = make_turn(rules=TurnRules(60.0, 2.0, stream_flush_ms=100.0), clock=clock)
    answer, _ = gateway(["a", "b", "c", "d"])

    def ticking(effect: Effect) -> Any:
        if isinstance(effect, NextDelta):
            clock.now += 0.06
        return answer(effect)

    effects = drive(turn.run(), ticking)
    tokens = [f["text"] for f in frames(effects) if f["type"] == "token"]
    assert "".join(tokens) == "Abcd" and len(tokens) < 4  # the cleaner capitalises


def test_the_generation_deadline_shrinks_with_each_delta() -> None:
    clock = Clock()
    turn = make_turn(rules=TurnRules(10.0, 2.0), clock=clock)
    answer, _ = gateway(["a", "b"])
    waits: list[float] = []

    def ticking(effect: Effect) -> Any:
        if isinstance(effect, NextDelta):
            waits.append(effect.timeout_s)
            clock.now += 3.0
        return answer(effect)

    drive(turn.run(), ticking)
    assert waits == [10.0, 7.0]


# -- properties ------------------------------------------------------------------------------
COMPLETE_TURN = re.compile(r"^(toolcall )?(token )*(final done |error )$")
STOPPED_TURN = re.compile(r"^(toolcall )?(token )*(final (done )?|error )?$")  # any prefix

step = st.one_of(
    st.text(alphabet="ab :)*~\n", max_size=6).map(lambda t: ("text", t)),
    st.just(("final", "")),
    st.sampled_from(
        [("end", None), ("unavailable", None), ("timeout", None), ("request", None), ("bug", None)]
    ),
)


@settings(max_examples=300, deadline=None)
@given(
    steps=st.lists(step, max_size=12),
    screen=st.sampled_from([True, False, "timeout", "unavailable"]),
    speculative=st.booleans(),
    decide_tool=st.booleans(),
    chat=st.booleans(),
    stop_at=st.one_of(st.none(), st.integers(0, 20)),
    utterance=st.sampled_from(["hi", "look at this", "", "take a screenshot"]),
)
def test_no_frame_follows_done_or_error_and_toolcall_precedes_token(
    steps: list[tuple[str, str | None]],
    screen: Any,
    speculative: bool,
    decide_tool: bool,
    chat: bool,
    stop_at: int | None,
    utterance: str,
) -> None:
    turn = make_turn(
        utterance,
        decide_tool=decide_tool,
        chat=chat,
        rules=TurnRules(60.0, 2.0, speculative=speculative),
    )
    script = turn.run()
    remaining = list(steps)
    failures = {
        "unavailable": EngineUnavailable("gone"),
        "timeout": TimeoutError(),
        "request": EngineRequestError("no"),
        "bug": KeyError("x"),
    }
    sent: list[Effect] = []
    count = {"n": 0}

    def answer(effect: Effect) -> Any:
        count["n"] += 1
        if stop_at is not None and count["n"] == stop_at:
            sent.extend(turn.stop())
        if isinstance(effect, Classify):
            return failures.get(screen, screen) if isinstance(screen, str) else screen
        if isinstance(effect, OpenChat):
            return object()
        if isinstance(effect, NextDelta):
            if not remaining:
                return None
            kind, text = remaining.pop(0)
            if kind == "text":
                return ChatDelta(text or "", final=False)
            if kind == "final":
                return ChatDelta("", final=True)
            if kind == "end":
                return None
            return failures[kind]
        return None

    effects = drive(script, answer)
    wire = " ".join(types(effects)) + " " if types(effects) else ""
    pattern = STOPPED_TURN if turn.outcome == "cancelled" else COMPLETE_TURN
    assert pattern.match(wire), wire
    names = types(effects)
    if "token" in names and decide_tool:
        assert names[0] == "toolcall"
    if not decide_tool:
        assert "toolcall" not in names
    assert turn.finished
    found = frames(effects)
    delivered = "".join(f["text"] for f in found if f["type"] == "token")
    finals = [f for f in found if f["type"] == "final"]
    if finals:
        assert finals[0]["normalized_text"] == delivered
    if delivered and turn.plan.turn_id is not None:
        assert turn.plan.session.history.turns[-1].assistant == delivered
    assert not any(isinstance(e, ProtocolError) for e in sent)
    assert sum(isinstance(e, TurnFinished) for e in [*effects, *sent]) == 1
