"""Server frames render exactly the reference JSON (fields, order, json.dumps spacing)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bridge.protocol.frames import (
    CancelledDone,
    Capacity,
    ChatPromptAck,
    ConnectionClosed,
    Done,
    ErrorFrame,
    Final,
    Pong,
    SetPersonaAck,
    StartAck,
    Token,
    ToolCall,
    Warmed,
    day_part,
    format_now,
)


def test_start_ack() -> None:
    ack = StartAck(
        session_id="s1",
        now="2025-12-12T14:03:07+00:00 (Afternoon)",
        gender="female",
        personality="flirty",
        chat_prompt=True,
    )
    assert ack.to_json() == (
        '{"type": "ack", "for": "start", "ok": true, "session_id": "s1", '
        '"now": "2025-12-12T14:03:07+00:00 (Afternoon)", "gender": "female", '
        '"personality": "flirty", "chat_prompt": true}'
    )


def test_chat_prompt_acks() -> None:
    assert ChatPromptAck.updated("male", "mark").to_json() == (
        '{"type": "ack", "for": "chat_prompt", "ok": true, "code": 200, '
        '"message": "updated", "gender": "male", "personality": "mark"}'
    )
    assert ChatPromptAck.no_change().to_json() == (
        '{"type": "ack", "for": "chat_prompt", "ok": true, "code": 204, "message": "no change"}'
    )
    rejected = ChatPromptAck.rejected(400, "chat_prompt is required").to_dict()
    assert rejected == {
        "type": "ack",
        "for": "chat_prompt",
        "ok": False,
        "code": 400,
        "message": "chat_prompt is required",
    }


def test_set_persona_ack_uses_v_old_names() -> None:
    ack = SetPersonaAck(
        session_id="s1",
        gender="female",
        personality="flirty",
        has_chat_prompt=True,
        changed=(("assistant_gender", "woman"),),
    )
    assert ack.to_dict() == {
        "type": "ack",
        "for": "set_persona",
        "ok": True,
        "session_id": "s1",
        "changed": {"assistant_gender": "woman"},
        "assistant_gender": "woman",
        "persona_style": "flirty",
        "persona_text_override": True,
    }
    male = SetPersonaAck("s", "male", None, False).to_dict()
    assert (male["assistant_gender"], male["persona_style"]) == ("man", None)


def test_turn_frames() -> None:
    assert ToolCall("no", []).to_json() == '{"type": "toolcall", "status": "no", "raw": []}'
    assert ToolCall("yes", [{"name": "take_screenshot"}]).to_json() == (
        '{"type": "toolcall", "status": "yes", "raw": [{"name": "take_screenshot"}]}'
    )
    assert ToolCall("no", None).to_json() == '{"type": "toolcall", "status": "no", "raw": null}'
    assert Token("Hey").to_json() == '{"type": "token", "text": "Hey"}'
    assert Final("Hey there").to_json() == '{"type": "final", "normalized_text": "Hey there"}'
    assert Done().to_json() == '{"type": "done", "usage": {}}'


def test_cancelled_done_echoes_only_a_non_empty_request_id() -> None:
    assert CancelledDone().to_json() == '{"type": "done", "cancelled": true}'
    assert CancelledDone("").to_json() == '{"type": "done", "cancelled": true}'
    assert CancelledDone("r-1").to_json() == (
        '{"type": "done", "cancelled": true, "request_id": "r-1"}'
    )
    assert "usage" not in CancelledDone("r").to_dict()


def test_misc_frames() -> None:
    assert Warmed("persona_static", 12).to_json() == (
        '{"type": "warmed", "segment": "persona_static", "bytes": 12}'
    )
    assert Warmed("history", 0).to_dict()["segment"] == "history"
    assert Pong().to_json() == '{"type": "pong"}'
    assert ConnectionClosed().to_json() == (
        '{"type": "connection_closed", "reason": "client_request"}'
    )


def test_error_frames() -> None:
    assert ErrorFrame("oops").to_json() == '{"type": "error", "message": "oops"}'
    assert ErrorFrame("slow down", "message_rate_limited", retry_in=3).to_json() == (
        '{"type": "error", "error_code": "message_rate_limited", "message": "slow down", '
        '"retry_in": 3}'
    )
    full = ErrorFrame("busy", "server_at_capacity", capacity=Capacity(active=2, max=2))
    assert json.loads(full.to_json())["capacity"] == {
        "active": 2,
        "max": 2,
        "available": 0,
        "at_capacity": True,
    }


def test_json_is_ascii_escaped_like_the_reference() -> None:
    assert Token("café 😂").to_json() == '{"type": "token", "text": "caf\\u00e9 \\ud83d\\ude02"}'
    assert json.loads(Token("café 😂").to_json())["text"] == "café 😂"


def test_frames_are_immutable() -> None:
    token = Token("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        token.text = "b"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("hour", "bucket"),
    [
        (0, "Midnight"),
        (1, "Night"),
        (3, "Night"),
        (4, "Early Morning"),
        (6, "Early Morning"),
        (7, "Morning"),
        (11, "Morning"),
        (12, "Noon"),
        (13, "Afternoon"),
        (16, "Afternoon"),
        (17, "Early Evening"),
        (20, "Early Evening"),
        (21, "Evening"),
        (23, "Evening"),
    ],
)
def test_day_parts(hour: int, bucket: str) -> None:
    assert day_part(hour) == bucket


def test_day_part_rejects_impossible_hours() -> None:
    with pytest.raises(ValueError):
        day_part(24)


def test_format_now() -> None:
    moment = datetime(2025, 12, 12, 14, 3, 7, 999_999, tzinfo=UTC)
    assert format_now(moment) == "2025-12-12T14:03:07+00:00 (Afternoon)"
    naive = datetime(2025, 12, 12, 0, 0, 1)
    assert format_now(naive) == "2025-12-12T00:00:01+00:00 (Midnight)"
    elsewhere = datetime(2025, 12, 12, 23, 30, 0, tzinfo=timezone(timedelta(hours=-2)))
    assert format_now(elsewhere) == "2025-12-13T01:30:00+00:00 (Night)"
