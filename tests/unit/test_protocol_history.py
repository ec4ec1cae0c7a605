"""History text format, the turn model, trimming and the chat message list (§8, §11.1)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.history import (
    ChatMessage,
    HistoryTurn,
    SessionHistory,
    build_chat_messages,
    parse_history_text,
    strip_check_screen_prefix,
    trim_history_text,
    with_check_screen_prefix,
)


def words(text: str) -> int:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return len(text.split())


def last_words(text: str, count: int) -> str:
    return " ".join(text.split()[-count:]) if count > 0 else ""


# --------------------------------------------------------------------------------------------
# parsing and rendering
# --------------------------------------------------------------------------------------------


def test_parse_single_and_double_newline_transcripts_alike() -> None:
    single = "User: hi\nAssistant: hello\nUser: bye"
    double = "User: hi\nAssistant: hello\n\nUser: bye"
    expected = [("hi", "hello"), ("bye", "")]
    assert parse_history_text(single) == expected
    assert parse_history_text(double) == expected


def test_parse_multi_line_parts() -> None:
    text = "User: line one\nline two\n\nstill user\nAssistant: a1\na2\nUser:x"
    assert parse_history_text(text) == [
        ("line one\nline two\n\nstill user", "a1\na2"),
        ("x", ""),
    ]


def test_parse_text_before_any_label_is_user_text() -> None:
    assert parse_history_text("\n\nhello\nAssistant: hi") == [("hello", "hi")]


def test_parse_assistant_first_and_replaced_replies() -> None:
    assert parse_history_text("Assistant: welcome") == [("", "welcome")]
    assert parse_history_text("User: q\nAssistant: first\nAssistant: second") == [("q", "second")]


def test_labels_are_case_sensitive_and_at_column_zero() -> None:
    assert parse_history_text("User: a\nuser: b\n Assistant: c") == [
        ("a\nuser: b\n Assistant: c", "")
    ]


def test_parse_empty() -> None:
    assert parse_history_text("") == []
    assert parse_history_text(" \n\n ") == []
    assert parse_history_text("User:") == [("", "")]


def test_render() -> None:
    history = SessionHistory.from_text("User: a\nAssistant: b\nUser: c")
    assert history.render() == "User: a\nAssistant: b\n\nUser: c"
    assert HistoryTurn(1, "only user").render() == "User: only user"
    assert SessionHistory().render() == ""


line = (
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1)
    .map(str.strip)
    .filter(lambda s: bool(s) and not s.startswith(("User:", "Assistant:")))
)


@given(st.lists(st.tuples(line, line | st.just("")), max_size=6))
def test_render_then_parse_round_trips(pairs: list[tuple[str, str]]) -> None:
    history = SessionHistory().extended(pairs)
    assert parse_history_text(history.render()) == pairs


@given(st.text())
def test_parse_never_raises(text: str) -> None:
    for user, assistant in parse_history_text(text):
        assert user == user.strip()
        assert assistant == assistant.strip()


# --------------------------------------------------------------------------------------------
# the turn model
# --------------------------------------------------------------------------------------------


def test_turn_ids_increase_and_survive_replacement() -> None:
    history = SessionHistory.from_text("User: a\nUser: b")
    assert [turn.turn_id for turn in history.turns] == [1, 2]
    history, turn_id = history.with_user_turn("c", "MUST CHECK SCREEN:")
    assert turn_id == 3
    replaced = history.replaced_from_text("User: x")
    assert [turn.turn_id for turn in replaced.turns] == [4]
    assert replaced.with_assistant_text(3, "late reply") == replaced


def test_user_turns_drop_the_check_screen_prefix() -> None:
    history, _ = SessionHistory().with_user_turn(
        "must check screen:   what is this?", "MUST CHECK SCREEN:"
    )
    assert history.turns[-1].user == "what is this?"
    history, _ = history.with_user_turn("hello MUST CHECK SCREEN:", "MUST CHECK SCREEN:")
    assert history.turns[-1].user == "hello MUST CHECK SCREEN:"


@pytest.mark.parametrize("utterance", ["", "   ", "MUST CHECK SCREEN:", "must check screen:  "])
def test_empty_utterances_are_not_appended(utterance: str) -> None:
    history = SessionHistory.from_text("User: a")
    assert history.with_user_turn(utterance, "MUST CHECK SCREEN:") == (history, None)


def test_assistant_text_fills_the_right_turn() -> None:
    history, first = SessionHistory().with_user_turn("one", "P:")
    history, second = history.with_user_turn("two", "P:")
    assert first is not None and second is not None
    history = history.with_assistant_text(first, "reply one")
    assert [(t.user, t.assistant) for t in history.turns] == [("one", "reply one"), ("two", "")]
    assert history.with_assistant_text(99, "nobody") == history


def test_trimming_drops_the_oldest_turns() -> None:
    history = SessionHistory.from_text(
        "User: one two\nAssistant: three\nUser: four five\nAssistant: six\nUser: seven"
    )
    # "User: one two / Assistant: three / User: four five / Assistant: six / User: seven"
    assert words(history.render()) == 12
    assert history.trimmed(words, 12) == history
    trimmed = history.trimmed(words, 11)
    assert [t.user for t in trimmed.turns] == ["four five", "seven"]
    assert [t.user for t in history.trimmed(words, 6).turns] == ["seven"]
    assert [t.user for t in history.trimmed(words, 2).turns] == ["seven"]
    assert history.trimmed(words, 1).turns == ()
    assert trimmed.next_turn_id == history.next_turn_id


def test_user_texts_for_the_classifier() -> None:
    history = SessionHistory.from_text("Assistant: hi\nUser: one\nAssistant: x\nUser: two")
    assert history.user_texts() == ["one", "two"]


def test_check_screen_prefix_helpers() -> None:
    assert with_check_screen_prefix("what is this", "MUST CHECK SCREEN:") == (
        "MUST CHECK SCREEN: what is this"
    )
    assert strip_check_screen_prefix("MUST CHECK SCREEN: x", "MUST CHECK SCREEN:") == "x"
    assert strip_check_screen_prefix("x", "") == "x"


# --------------------------------------------------------------------------------------------
# the text-level trimmer
# --------------------------------------------------------------------------------------------


def test_trim_history_text_keeps_the_longest_fitting_suffix_of_messages() -> None:
    text = "User: a b\nAssistant: c d\nUser: e f"
    # Split on "\nUser: " into ["User: a b\nAssistant: c d", "e f"]. The last part costs 2
    # words; the other is counted with the separator: "\nUser: User: a b\nAssistant: c d" = 7.
    assert trim_history_text(text, 100, words, last_words) == text
    assert trim_history_text(text, 9, words, last_words) == text
    assert trim_history_text(text, 8, words, last_words) == "e f"
    assert trim_history_text(text, 2, words, last_words) == "e f"


def test_trim_history_text_separator_priority() -> None:
    text = "para one\n\npara two\n\npara three"
    assert trim_history_text(text, 4, words, last_words) == "para two\n\npara three"
    lines = "l1\nl2\nl3"
    assert trim_history_text(lines, 2, words, last_words) == "l2\nl3"


def test_trim_history_text_falls_back_to_the_last_tokens() -> None:
    assert trim_history_text("one two three four", 2, words, last_words) == "three four"
    # Not even the last message fits: keep its last tokens rather than nothing.
    assert trim_history_text("User: a\nUser: b c d e", 2, words, last_words) == "d e"
    assert trim_history_text("   ", 5, words, last_words) == ""


# --------------------------------------------------------------------------------------------
# the chat message list
# --------------------------------------------------------------------------------------------


def test_message_list_order_and_roles() -> None:
    history = SessionHistory.from_text("User: hi\nAssistant: hello")
    messages = build_chat_messages(" You are Anna. ", history.turns, " what now? ")
    assert [m.to_dict() for m in messages] == [
        {"role": "system", "content": "You are Anna."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "what now?"},
    ]


def test_consecutive_same_role_messages_are_merged() -> None:
    history = SessionHistory.from_text("User: one\nUser: two\nAssistant: a\nUser: three")
    messages = build_chat_messages(None, history.turns, "four")
    assert messages == [
        ChatMessage("user", "one\n\ntwo"),
        ChatMessage("assistant", "a"),
        ChatMessage("user", "three\n\nfour"),
    ]


def test_empty_contents_are_skipped() -> None:
    turns = (HistoryTurn(1, "", "orphan reply"), HistoryTurn(2, "  ", ""))
    assert build_chat_messages("  ", turns, "") == [ChatMessage("assistant", "orphan reply")]


def test_warm_prompts_have_no_current_user() -> None:
    assert build_chat_messages("System", ()) == [ChatMessage("system", "System")]
    history = SessionHistory.from_text("User: a\nAssistant: b")
    assert build_chat_messages(None, history.turns) == [
        ChatMessage("user", "a"),
        ChatMessage("assistant", "b"),
    ]


@given(
    st.one_of(st.none(), st.text(max_size=5)),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=5),
    st.one_of(st.none(), st.text(max_size=5)),
)
def test_message_lists_always_alternate_and_are_stripped(
    system: str | None, pairs: list[tuple[str, str]], user: str | None
) -> None:
    messages = build_chat_messages(system, SessionHistory().extended(pairs).turns, user)
    for earlier, later in itertools.pairwise(messages):
        assert earlier.role != later.role
    for message in messages:
        assert message.content and message.content == message.content.strip()
    assert all(m.role != "system" for m in messages[1:])
