"""The OpenAI turn script, driven without Triton: the budgets it asks for, the plan it hands to
the shared ``TurnMachine``, and the frames that machine yields for a fake engine."""

from __future__ import annotations

from typing import Any

from bridge.openai_api.request import CompletionRequest, parse_completion_request
from bridge.openai_api.turns import OpenAITurnScript
from bridge.protocol.config import BridgeConfig
from bridge.protocol.effects import (
    ChatDelta,
    Classify,
    Effect,
    ExceedsTokens,
    HeadTokens,
    NextDelta,
    OpenChat,
    RunTurn,
    Send,
    TrimHistories,
)
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Done, Token, ToolCall

CONFIG = BridgeConfig.from_env({"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "4"})
TOOL = {"type": "function", "function": {"name": "take_screenshot"}}


def request(**body: Any) -> CompletionRequest:
    body = {"model": "yap", **body}
    parsed = parse_completion_request(body, CONFIG, served_model="yap")
    assert isinstance(parsed, CompletionRequest), parsed
    return parsed


def drive(script: Any, answer: Any) -> list[Effect]:
    """Run a script, answering each effect with ``answer(effect)``."""
    seen: list[Effect] = []
    reply: Any = None
    while True:
        try:
            effect = script.send(reply)
        except StopIteration:
            return seen
        seen.append(effect)
        reply = answer(effect)


def budgets(effect: Effect) -> Any:
    if isinstance(effect, ExceedsTokens):
        return False
    if isinstance(effect, HeadTokens):
        return effect.text
    if isinstance(effect, TrimHistories):
        return effect.histories
    return None


MESSAGES = [
    {"role": "system", "content": "You are Maya."},
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "Hey you"},
    {"role": "user", "content": "take a screenshot"},
]


def test_the_script_applies_the_budgets_then_runs_a_turn_machine() -> None:
    rules = OpenAITurnScript(
        request(messages=MESSAGES, tools=[TOOL]), CONFIG, phrase_bias={}, request_id="r1"
    )
    effects = drive(rules.script(), budgets)
    kinds = [type(e) for e in effects]
    assert kinds == [ExceedsTokens, HeadTokens, TrimHistories, RunTurn]
    assert effects[0].max_tokens == CONFIG.chat_prompt_max_tokens
    assert effects[1].max_tokens == CONFIG.user_utt_max_tokens
    assert rules.turn is not None and effects[-1].turn is rules.turn
    plan = rules.turn.plan
    assert plan.decide_tool and plan.chat and plan.sanitize and plan.include_timings
    assert [t.user for t in plan.prompt_turns] == ["hi"]
    assert plan.session.chat_prompt == "You are Maya."


def test_a_persona_over_the_limit_is_one_error_frame() -> None:
    rules = OpenAITurnScript(request(messages=MESSAGES), CONFIG, phrase_bias={}, request_id="r")
    effects = drive(rules.script(), lambda e: True if isinstance(e, ExceedsTokens) else None)
    assert isinstance(effects[-1], Send) and isinstance(effects[-1].frame, ProtocolError)
    assert effects[-1].frame.error_code == "chat_prompt_too_long" and rules.turn is None


def run_turn(rules: OpenAITurnScript, classify_yes: bool) -> list[Any]:
    drive(rules.script(), budgets)
    assert rules.turn is not None
    deltas = iter([ChatDelta("hello ", False), ChatDelta("there", True, {"num_output_tokens": 2})])

    def engine(effect: Effect) -> Any:
        if isinstance(effect, Classify):
            return classify_yes
        if isinstance(effect, OpenChat):
            return "chat"
        if isinstance(effect, NextDelta):
            return next(deltas)
        return None

    return [e.frame for e in drive(rules.turn.run(), engine) if isinstance(e, Send)]


def test_the_tool_decision_comes_first_and_only_when_offered() -> None:
    talk = [{"role": "user", "content": "what do you think of this"}]
    offered = OpenAITurnScript(
        request(messages=talk, tools=[TOOL]), CONFIG, phrase_bias={}, request_id="a"
    )
    frames = run_turn(offered, classify_yes=True)
    assert isinstance(frames[0], ToolCall) and frames[0].status == "yes"
    assert [f.text for f in frames if isinstance(f, Token)] == ["Hello", " there"]
    assert isinstance(frames[-1], Done) and frames[-1].timings["num_output_tokens"] == 2
    plain = OpenAITurnScript(request(messages=talk), CONFIG, phrase_bias={}, request_id="b")
    assert not any(isinstance(f, ToolCall) for f in run_turn(plain, classify_yes=True))


def test_stop_aborts_a_running_turn_and_is_a_no_op_after_it() -> None:
    rules = OpenAITurnScript(request(messages=MESSAGES), CONFIG, phrase_bias={}, request_id="c")
    assert rules.stop() == []  # nothing started yet
    drive(rules.script(), budgets)
    effects = rules.stop()
    assert effects and type(effects[0]).__name__ == "AbortTurn" and rules.finished
    assert rules.stop() == []
