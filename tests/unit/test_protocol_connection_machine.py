"""The connection machine (bridge/protocol/connection_machine.py) driven directly."""

from __future__ import annotations

import json
from typing import Any

from bridge.client import YapClient
from bridge.protocol.config import BridgeConfig
from bridge.protocol.connection_machine import HANDLERS, ConnectionMachine, ConnectionState
from bridge.protocol.effects import (
    AbortTurn,
    Close,
    Count,
    Effect,
    EngineUnavailable,
    ExceedsTokens,
    HeadTokens,
    InBackground,
    RunTurn,
    Send,
    TrimHistories,
    TrimText,
    TurnFinished,
    Warm,
)
from bridge.protocol.messages import ClientMessage, Unknown
from bridge.protocol.sessions import SessionStore
from bridge.protocol.turn_machine import TurnMachine
from tests.machine_driver import Clock, drive, frames, types


def config(**env: str) -> BridgeConfig:
    return BridgeConfig.from_env(
        {"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "4", "DEPLOY_MODELS": "both", **env}
    )


def machine(sessions: SessionStore | None = None, **env: str) -> ConnectionMachine:
    cfg = config(**env)
    store = SessionStore(cfg) if sessions is None else sessions
    return ConnectionMachine(cfg, store, phrase_bias={}, clock=Clock())


def budgets(effect: Effect) -> Any:
    """Answers budget queries as if every text fitted."""
    if isinstance(effect, ExceedsTokens):
        return False
    if isinstance(effect, (HeadTokens, TrimText)):
        return effect.text
    if isinstance(effect, TrimHistories):
        return effect.histories
    return None


def receive(
    m: ConnectionMachine, message: dict[str, Any] | str, answer: Any = budgets
) -> list[Effect]:
    raw = message if isinstance(message, str) else json.dumps(message)
    return drive(m.receive(raw), answer)


def start(session: str = "s1", utterance: str = "hello", **extra: Any) -> dict[str, Any]:
    return YapClient.start_message(session, utterance, **extra)


def running_turn(effects: list[Effect]) -> TurnMachine:
    [run] = [e for e in effects if isinstance(e, RunTurn)]
    assert isinstance(run.turn, TurnMachine)
    return run.turn


def test_every_message_type_has_a_row_in_the_table() -> None:
    kinds = {cls.__name__ for cls in ClientMessage.__subclasses__() if cls is not Unknown}
    assert kinds - {"Unknown"} == {cls.__name__ for cls in HANDLERS}


def test_ping_unknown_and_invalid_frames() -> None:
    m = machine()
    assert frames(receive(m, {"type": "ping"})) == [{"type": "pong"}]
    assert receive(m, {"type": "pong"}) == []
    assert frames(receive(m, {"type": "dance"}))[0]["error_code"] == "unknown_message_type"
    before = m.last_activity
    assert frames(receive(m, "{nope"))[0]["error_code"] == "invalid_message"
    assert frames(drive(m.receive(b"\x00"), budgets))[0]["error_code"] == "invalid_message"
    assert m.last_activity == before and m.state is ConnectionState.OPEN


def test_start_acks_commits_the_user_half_and_runs_the_turn() -> None:
    m = machine()
    effects = receive(m, start(utterance="hi there"))
    kinds = [type(e) for e in effects]
    assert kinds == [ExceedsTokens, HeadTokens, TrimHistories, Send, RunTurn]
    assert frames(effects)[0]["type"] == "ack" and frames(effects)[0]["session_id"] == "s1"
    session = m.sessions.get("s1")
    assert session is not None and session.history.turns[-1].user == "hi there"
    turn = running_turn(effects)
    assert session.turn is turn and m.turn is turn and turn.plan.prompt_turns == ()
    assert turn.plan.sampling["max_tokens"] == m.config.chat_max_out


def test_one_round_trip_trims_the_prompt_history_and_the_stored_one() -> None:
    m = machine()
    history = "User: one\nAssistant: 1\nUser: two\nAssistant: 2"
    seen: list[TrimHistories] = []

    def keep_last(effect: Effect) -> Any:
        if isinstance(effect, TrimHistories):
            seen.append(effect)
            return tuple(type(h)(h.turns[-1:], h.next_turn_id) for h in effect.histories)
        return budgets(effect)

    effects = receive(m, start(utterance="three", history_text=history), keep_last)
    assert len(seen) == 1 and len(seen[0].histories) == 2
    turn = running_turn(effects)
    assert [t.user for t in turn.plan.prompt_turns] == ["two"]
    assert [t.user for t in m.sessions.get("s1").history.turns] == ["three"]  # type: ignore[union-attr]


def test_tool_mode_never_trims() -> None:
    effects = receive(machine(DEPLOY_MODELS="tool"), start())
    assert not any(isinstance(e, (TrimHistories, ExceedsTokens)) for e in effects)


def test_a_long_chat_prompt_is_refused_and_closes() -> None:
    m = machine()

    def too_long(effect: Effect) -> Any:
        return True if isinstance(effect, ExceedsTokens) else budgets(effect)

    effects = receive(m, start(), too_long)
    assert frames(effects)[0]["error_code"] == "chat_prompt_too_long"
    assert isinstance(effects[-1], Close) and effects[-1].code == 1008
    assert m.closed and receive(m, {"type": "ping"}) == []


def test_barge_in_stops_the_old_turn_silently_before_the_new_ack() -> None:
    m = machine()
    old = running_turn(receive(m, start(utterance="first")))
    effects = receive(m, start(utterance="second"))
    assert effects[0] == AbortTurn(old) and TurnFinished(old, "cancelled") in effects
    assert Count("barge_ins") in effects
    assert types(effects) == ["ack"]
    assert old.finished and running_turn(effects) is m.turn


def test_a_start_on_another_socket_stops_the_sessions_turn_too() -> None:
    first = machine()
    second = machine(first.sessions)
    old = running_turn(receive(first, start()))
    effects = receive(second, start())
    assert AbortTurn(old) in effects and Count("barge_ins") not in effects


def test_cancel_stops_the_turn_then_answers_done_cancelled() -> None:
    m = machine()
    turn = running_turn(receive(m, start()))
    effects = receive(m, {"type": "cancel", "request_id": 7})
    assert effects[0] == Count("cancels") and AbortTurn(turn) in effects
    assert frames(effects) == [{"type": "done", "cancelled": True, "request_id": "7"}]
    assert turn.outcome == "cancelled" and m.turn is None
    assert frames(receive(m, "__CANCEL__")) == [{"type": "done", "cancelled": True}]


def test_warm_ups_run_in_the_background_and_answer_when_done() -> None:
    m = machine()
    effects = receive(m, {"type": "warm_persona", "chat_prompt": "You are calm."})
    assert [type(e) for e in effects] == [InBackground]
    background = drive(effects[0].script, budgets)  # type: ignore[attr-defined]
    assert isinstance(background[0], Warm)
    assert frames(background) == [{"type": "warmed", "segment": "persona_static", "bytes": 13}]
    history = receive(m, {"type": "warm_history", "history_text": "User: hi\nAssistant: yo"})
    later = drive(history[0].script, budgets)  # type: ignore[attr-defined]
    assert [type(e) for e in later] == [TrimText, Warm, Send]


def test_a_failed_warm_up_answers_its_error() -> None:
    m = machine()
    [background] = receive(m, {"type": "warm_persona", "chat_prompt": "You are calm."})

    def down(effect: Effect) -> Any:
        return EngineUnavailable("chat: not ready") if isinstance(effect, Warm) else None

    found = frames(drive(background.script, down))  # type: ignore[attr-defined]
    assert [f["error_code"] for f in found] == ["engine_unavailable"]


def test_chat_prompt_applies_at_once_and_acks_after_its_warm_up() -> None:
    m = machine()
    receive(m, start())
    update = {"type": "chat_prompt", "gender": "male", "personality": "calm", "chat_prompt": "x y"}
    effects = receive(m, update)
    assert [type(e) for e in effects] == [ExceedsTokens, TrimHistories, InBackground]
    session = m.sessions.get("s1")
    assert session is not None and session.chat_prompt == "x y" and session.gender == "male"
    found = frames(drive(effects[-1].script, budgets))  # type: ignore[attr-defined]
    assert found[0]["for"] == "chat_prompt" and found[0]["code"] == 200


def test_followup_stops_the_turn_and_runs_a_chat_turn() -> None:
    m = machine()
    old = running_turn(receive(m, start()))
    effects = receive(m, {"type": "followup", "analysis_text": "a cat on a sofa"})
    assert AbortTurn(old) in effects and types(effects) == []
    turn = running_turn(effects)
    assert turn.plan.label == "followup" and not turn.plan.decide_tool
    assert turn.plan.utterance.endswith("a cat on a sofa")


def test_end_says_goodbye_closes_and_forgets_the_session() -> None:
    m = machine()
    turn = running_turn(receive(m, start()))
    effects = receive(m, {"type": "end"})
    assert frames(effects) == [{"type": "connection_closed", "reason": "client_request"}]
    assert Close(1000) in effects and AbortTurn(turn) in effects
    assert m.closed and m.sessions.get("s1") is None


def test_disconnect_stops_the_turn_and_forgets_the_session() -> None:
    m = machine()
    turn = running_turn(receive(m, start()))
    assert AbortTurn(turn) in m.disconnected()
    assert m.sessions.get("s1") is None and m.closed


def test_a_budget_round_trip_that_fails_answers_engine_unavailable() -> None:
    m = machine()

    def down(effect: Effect) -> Any:
        if isinstance(effect, HeadTokens):
            return EngineUnavailable("tokenizer: down")
        return budgets(effect)

    found = frames(receive(m, start(), down))
    assert [f["error_code"] for f in found] == ["engine_unavailable"] and not m.closed


def test_rate_limits_answer_and_drop() -> None:
    m = machine(WS_MAX_MESSAGES_PER_WINDOW="1", WS_MAX_CANCELS_PER_WINDOW="1")
    receive(m, {"type": "dance"})
    effects = receive(m, {"type": "dance"})
    assert Count("rate_limited", {"limiter": "message"}) in effects
    assert frames(effects)[0]["error_code"] == "message_rate_limited"
    receive(m, {"type": "cancel"})
    assert frames(receive(m, {"type": "cancel"}))[0]["error_code"] == "cancel_rate_limited"
    assert frames(receive(m, {"type": "ping"})) == [{"type": "pong"}]  # exempt
