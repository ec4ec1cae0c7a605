"""A Pipecat context as the next Yap message (pure: no Pipecat needed)."""

from __future__ import annotations

import json

import pytest

from yap_pipecat.turns import ContextError, YapPersona, next_message, tool_result_text

PERSONA = YapPersona(personality="flirty", personalities={"flirty": ["spicy"]})
SYSTEM = {"role": "system", "content": "You are Maya."}


def message(messages: list[object], *, on_socket: bool = True, instruction: str | None = None):  # type: ignore[no-untyped-def]
    return next_message(
        messages, instruction, PERSONA, session_id="s-1", session_on_socket=on_socket
    )


def test_a_user_turn_is_a_start_with_the_spoken_history() -> None:
    start = message(
        [
            SYSTEM,
            {"role": "user", "content": "tell me a story"},
            {"role": "assistant", "content": "Once upon a time, a"},  # cut by a barge-in
            {"role": "user", "content": "stop. what's two plus two?"},
        ]
    )
    assert start["type"] == "start" and start["session_id"] == "s-1"
    assert start["chat_prompt"] == "You are Maya."
    assert start["history_text"] == "User: tell me a story\nAssistant: Once upon a time, a"
    assert start["user_utterance"] == "stop. what's two plus two?"
    assert (start["gender"], start["personality"]) == ("female", "flirty")
    assert start["personalities"] == {"flirty": ["spicy"]}


def test_the_system_instruction_comes_first_and_other_messages_are_skipped() -> None:
    start = message([object(), {"role": "user", "content": "hi"}], instruction="Be kind.")
    assert start["chat_prompt"] == "Be kind." and start["history_text"] == ""


def test_a_tool_result_is_a_followup_on_the_same_socket() -> None:
    context = [
        SYSTEM,
        {"role": "user", "content": "look at this"},
        {"role": "assistant", "content": "Let me see.", "tool_calls": [{"id": "c"}]},
        {"role": "tool", "tool_call_id": "c", "content": json.dumps("a red car")},
    ]
    assert message(context) == {"type": "followup", "analysis_text": "a red car"}
    # After a reconnect the server forgot the session: the result goes out in a start.
    start = message(context, on_socket=False)
    assert start["type"] == "start"
    assert start["user_utterance"] == "ON THE SCREEN NOW: a red car"
    assert start["history_text"] == "User: look at this\nAssistant: Let me see."


def test_tool_results_are_unwrapped_text() -> None:
    assert tool_result_text(json.dumps("plain")) == "plain"
    assert tool_result_text(json.dumps({"a": 1})) == '{"a": 1}'
    assert tool_result_text("not json") == "not json"
    assert tool_result_text({"a": 1}) == '{"a": 1}'


def test_a_context_that_ends_with_the_assistant_is_refused() -> None:
    with pytest.raises(ContextError, match="last message"):
        message([SYSTEM, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])
