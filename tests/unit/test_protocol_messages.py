"""parse_client_message: one text frame in, a typed message or an invalid_message error out."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.errors import ErrorCode, ProtocolError
from bridge.protocol.messages import (
    MESSAGE_TYPES,
    Cancel,
    ChatPromptUpdate,
    ClientMessage,
    End,
    Followup,
    Ping,
    Pong,
    SetPersona,
    Start,
    Unknown,
    WarmHistory,
    WarmPersona,
    binary_frame_error,
    parse_client_message,
)


def parse(text: str) -> ClientMessage:
    parsed = parse_client_message(text)
    assert isinstance(parsed, ClientMessage), parsed
    return parsed


def error_of(text: str) -> str:
    parsed = parse_client_message(text)
    assert isinstance(parsed, ProtocolError), parsed
    assert parsed.error_code is ErrorCode.INVALID_MESSAGE
    assert parsed.close_code is None
    return parsed.message


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_frames(text: str) -> None:
    assert error_of(text) == "Empty message."


def test_default_sentinels() -> None:
    assert parse("__CANCEL__") == Cancel()
    assert parse("  __END__\n") == End()


def test_custom_sentinels() -> None:
    assert parse_client_message("STOP", cancel_sentinel="STOP") == Cancel()
    assert parse_client_message("BYE", end_sentinel="BYE") == End()
    # The defaults are no longer sentinels then.
    assert error_of_custom("__END__") == "Message must be valid JSON or a sentinel string."


def error_of_custom(text: str) -> str:
    parsed = parse_client_message(text, end_sentinel="BYE", cancel_sentinel="STOP")
    assert isinstance(parsed, ProtocolError)
    return parsed.message


@pytest.mark.parametrize("text", ["{", "hello", "__cancel__", "{'type': 'ping'}", "[1,"])
def test_invalid_json(text: str) -> None:
    assert error_of(text) == "Message must be valid JSON or a sentinel string."


@pytest.mark.parametrize("text", ["[]", "1", '"ping"', "null", "true", '[{"type": "ping"}]'])
def test_json_that_is_not_an_object(text: str) -> None:
    assert error_of(text) == "Message must be a JSON object."


def test_absurd_nesting_is_invalid_json_not_a_crash() -> None:
    assert error_of("[" * 100_000) == "Message must be valid JSON or a sentinel string."
    assert error_of('{"a":' * 50_000 + "1" + "}" * 50_000) == (
        "Message must be valid JSON or a sentinel string."
    )


@pytest.mark.parametrize(
    "payload",
    [{}, {"type": None}, {"type": ""}, {"type": "   "}, {"cancel": False}, {"end": 0}],
)
def test_missing_type(payload: dict[str, Any]) -> None:
    assert error_of(json.dumps(payload)) == "Missing 'type' in message."


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ({"cancel": True}, Cancel),
        ({"cancel": 1, "request_id": "r"}, Cancel),
        ({"end": True}, End),
        ({"type": None, "end": "yes"}, End),
        ({"type": "  ", "cancel": True}, Cancel),
        ({"cancel": True, "end": True}, Cancel),
    ],
)
def test_type_inferred_from_flags(payload: dict[str, Any], kind: type[ClientMessage]) -> None:
    assert type(parse(json.dumps(payload))) is kind


@pytest.mark.parametrize("value", [1, True, ["start"], {"x": 1}])
def test_type_must_be_a_string(value: Any) -> None:
    assert error_of(json.dumps({"type": value})) == "'type' must be a string."


@pytest.mark.parametrize(
    ("type_text", "kind"),
    [
        ("start", Start),
        (" START ", Start),
        ("cancel", Cancel),
        ("end", End),
        ("ping", Ping),
        ("Pong", Pong),
        ("warm_persona", WarmPersona),
        ("warm_history", WarmHistory),
        ("chat_prompt", ChatPromptUpdate),
        ("followup", Followup),
        ("set_persona", SetPersona),
    ],
)
def test_every_message_type(type_text: str, kind: type[ClientMessage]) -> None:
    message = parse(json.dumps({"type": type_text, "x": 1}))
    assert type(message) is kind
    assert message.fields["x"] == 1
    assert kind.type == type_text.strip().lower()


def test_the_type_table_is_complete() -> None:
    assert set(MESSAGE_TYPES) == {
        "start",
        "cancel",
        "end",
        "ping",
        "pong",
        "warm_persona",
        "warm_history",
        "chat_prompt",
        "followup",
        "set_persona",
    }


def test_type_wins_over_flags() -> None:
    assert type(parse('{"type": "ping", "cancel": true}')) is Ping


def test_unknown_types_are_messages_not_errors() -> None:
    message = parse('{"type": " Dance "}')
    assert isinstance(message, Unknown)
    assert message.message_type == "dance"
    assert message.limiter == "message"


def test_limiters() -> None:
    assert Cancel.limiter == "cancel"
    assert End.limiter is None
    assert Ping.limiter is None
    assert Pong.limiter is None
    for kind in (Start, WarmPersona, WarmHistory, ChatPromptUpdate, Followup, SetPersona):
        assert kind.limiter == "message"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("r-1", "r-1"),
        ("", ""),
        (7, "7"),
        (0, "0"),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        ([1, "a"], '[1, "a"]'),
        ({"k": None}, '{"k": null}'),
        (None, None),
    ],
)
def test_request_id_becomes_a_string(value: Any, expected: str | None) -> None:
    message = parse(json.dumps({"type": "cancel", "request_id": value}))
    assert message.request_id == expected


def test_sentinel_messages_have_no_fields() -> None:
    message = parse("__CANCEL__")
    assert dict(message.fields) == {}
    assert message.request_id is None


def test_fields_are_read_only() -> None:
    message = parse('{"type": "start", "session_id": "s"}')
    with pytest.raises(TypeError):
        message.fields["session_id"] = "other"  # type: ignore[index]


def test_messages_compare_by_type_and_fields() -> None:
    assert parse('{"type": "ping"}') == parse(' {"type":"ping"} ')
    assert parse('{"type": "ping", "a": 1}') != parse('{"type": "ping", "a": 2}')
    assert parse('{"type": "ping"}') != parse('{"type": "pong"}')


def test_binary_frames() -> None:
    error = binary_frame_error()
    assert error.error_code is ErrorCode.INVALID_MESSAGE
    assert error.close_code is None
    assert "Binary" in error.message


@given(st.text())
def test_the_parser_never_raises_on_any_text(text: str) -> None:
    result = parse_client_message(text)
    assert isinstance(result, ClientMessage | ProtocolError)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=20,
)


@given(st.dictionaries(st.sampled_from(["type", "cancel", "end", "request_id", "x"]), json_values))
def test_the_parser_never_raises_on_any_object(payload: dict[str, Any]) -> None:
    result = parse_client_message(json.dumps(payload))
    assert isinstance(result, ClientMessage | ProtocolError)
    if isinstance(result, ClientMessage):
        assert result.request_id is None or isinstance(result.request_id, str)
        raw_type = payload.get("type")
        if isinstance(raw_type, str) and raw_type.strip():
            assert result.type == raw_type.strip().lower() or isinstance(result, Unknown)


@given(st.sampled_from(sorted(MESSAGE_TYPES)), st.text(alphabet=" \t\n"), st.text(" \t"))
def test_padding_and_case_never_change_the_type(name: str, left: str, right: str) -> None:
    text = left + json.dumps({"type": right + name.upper() + right}) + left
    assert type(parse(text)) is MESSAGE_TYPES[name]
