"""Server -> client frames of the Yap protocol (docs/protocol.md §6), one immutable class each.

Every frame knows how to render itself with ``to_json()``: the field names and their order are
exactly those of the reference server, encoded with ``json.dumps`` defaults (ASCII-escaped,
``", "`` / ``": "`` separators). This module is the bottom layer of the package: it imports
nothing from it, so ``error_code`` fields are typed as plain strings (``ErrorCode`` members
are strings).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Literal, TypeAlias

JsonValue: TypeAlias = bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"] | None
JsonObject: TypeAlias = dict[str, JsonValue]

ToolStatus = Literal["yes", "no"]
WarmSegment = Literal["persona_static", "history"]


class Frame:
    """Base of every server frame: ``to_dict()`` gives the JSON object, ``to_json()`` the text."""

    __slots__ = ()

    def to_dict(self) -> JsonObject:
        raise NotImplementedError

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass(frozen=True, slots=True)
class StartAck(Frame):
    """``ack`` for an accepted ``start`` (§5.1.4); ``chat_prompt`` says whether one is stored."""

    session_id: str
    now: str
    gender: str
    personality: str
    chat_prompt: bool

    def to_dict(self) -> JsonObject:
        return {
            "type": "ack",
            "for": "start",
            "ok": True,
            "session_id": self.session_id,
            "now": self.now,
            "gender": self.gender,
            "personality": self.personality,
            "chat_prompt": self.chat_prompt,
        }


@dataclass(frozen=True, slots=True)
class ChatPromptAck(Frame):
    """``ack`` answering a ``chat_prompt`` update (§5.7), with an HTTP-like ``code`` (§9.2).

    ``gender`` and ``personality`` are sent only with code 200.
    """

    ok: bool
    code: int
    message: str
    gender: str | None = None
    personality: str | None = None

    UPDATED: ClassVar[int] = 200
    NO_CHANGE: ClassVar[int] = 204
    BAD_REQUEST: ClassVar[int] = 400
    TOO_LARGE: ClassVar[int] = 413
    RATE_LIMITED: ClassVar[int] = 429

    @classmethod
    def rejected(cls, code: int, message: str) -> ChatPromptAck:
        return cls(ok=False, code=code, message=message)

    @classmethod
    def no_change(cls) -> ChatPromptAck:
        return cls(ok=True, code=cls.NO_CHANGE, message="no change")

    @classmethod
    def updated(cls, gender: str, personality: str) -> ChatPromptAck:
        return cls(
            ok=True,
            code=cls.UPDATED,
            message="updated",
            gender=gender,
            personality=personality,
        )

    def to_dict(self) -> JsonObject:
        frame: JsonObject = {
            "type": "ack",
            "for": "chat_prompt",
            "ok": self.ok,
            "code": self.code,
            "message": self.message,
        }
        if self.code == self.UPDATED:
            frame["gender"] = self.gender
            frame["personality"] = self.personality
        return frame


_OLD_GENDER_NAMES = {"female": "woman", "male": "man"}


@dataclass(frozen=True, slots=True)
class SetPersonaAck(Frame):
    """v-old ``ack`` for ``set_persona`` (§18, §18.1), for clients of the older generation.

    Genders are reported with the v-old names (``woman``/``man``); ``changed`` lists the fields
    this message changed, as v-old did.
    """

    session_id: str
    gender: str | None
    personality: str | None
    has_chat_prompt: bool
    changed: tuple[tuple[str, JsonValue], ...] = ()

    def to_dict(self) -> JsonObject:
        gender = _OLD_GENDER_NAMES.get(self.gender, self.gender) if self.gender else self.gender
        return {
            "type": "ack",
            "for": "set_persona",
            "ok": True,
            "session_id": self.session_id,
            "changed": dict(self.changed),
            "assistant_gender": gender,
            "persona_style": self.personality,
            "persona_text_override": self.has_chat_prompt,
        }


@dataclass(frozen=True, slots=True)
class ToolCall(Frame):
    """``toolcall``: the tool decision of a turn (§12.4); ``raw`` is the parsed tool output."""

    status: ToolStatus
    raw: JsonValue

    def to_dict(self) -> JsonObject:
        return {"type": "toolcall", "status": self.status, "raw": self.raw}


@dataclass(frozen=True, slots=True)
class Token(Frame):
    """``token``: one non-empty chunk of cleaned chat output."""

    text: str

    def to_dict(self) -> JsonObject:
        return {"type": "token", "text": self.text}


@dataclass(frozen=True, slots=True)
class Final(Frame):
    """``final``: the concatenation of the turn's ``token`` texts (``""`` in tool-only mode)."""

    normalized_text: str

    def to_dict(self) -> JsonObject:
        return {"type": "final", "normalized_text": self.normalized_text}


@dataclass(frozen=True, slots=True)
class Done(Frame):
    """``done`` closing a normally completed turn or followup; ``usage`` is always ``{}``.

    ``timings`` (an extension) is sent only to clients that asked with
    ``start.include_timings: true``: where the turn's time went, for benchmarks.
    """

    timings: Mapping[str, JsonValue] | None = None

    def to_dict(self) -> JsonObject:
        frame: JsonObject = {"type": "done", "usage": {}}
        if self.timings is not None:
            frame["timings"] = dict(self.timings)
        return frame


@dataclass(frozen=True, slots=True)
class CancelledDone(Frame):
    """``done`` answering ``cancel`` (§5.2); echoes ``request_id`` only when it is non-empty."""

    request_id: str | None = None

    def to_dict(self) -> JsonObject:
        frame: JsonObject = {"type": "done", "cancelled": True}
        if self.request_id:
            frame["request_id"] = self.request_id
        return frame


@dataclass(frozen=True, slots=True)
class Warmed(Frame):
    """``warmed`` answering ``warm_persona`` / ``warm_history``; ``bytes`` counts characters."""

    segment: WarmSegment
    bytes: int

    def to_dict(self) -> JsonObject:
        return {"type": "warmed", "segment": self.segment, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class Pong(Frame):
    """``pong`` answering an application-level ``ping``."""

    def to_dict(self) -> JsonObject:
        return {"type": "pong"}


@dataclass(frozen=True, slots=True)
class ConnectionClosed(Frame):
    """``connection_closed`` sent just before closing with 1000 on a client ``end``."""

    reason: str = "client_request"

    def to_dict(self) -> JsonObject:
        return {"type": "connection_closed", "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Capacity:
    """The ``capacity`` extra of ``server_at_capacity`` (§3)."""

    active: int
    max: int

    @property
    def available(self) -> int:
        return self.max - self.active

    @property
    def at_capacity(self) -> bool:
        return self.active >= self.max

    def to_dict(self) -> JsonObject:
        return {
            "active": self.active,
            "max": self.max,
            "available": self.available,
            "at_capacity": self.at_capacity,
        }


@dataclass(frozen=True, slots=True)
class ErrorFrame(Frame):
    """``error`` (§9): ``error_code`` is absent on the legacy code-less errors of §5.5-§5.8."""

    message: str
    error_code: str | None = None
    retry_in: int | None = None
    capacity: Capacity | None = None

    def to_dict(self) -> JsonObject:
        frame: JsonObject = {"type": "error"}
        if self.error_code is not None:
            frame["error_code"] = str(self.error_code)
        frame["message"] = self.message
        if self.retry_in is not None:
            frame["retry_in"] = self.retry_in
        if self.capacity is not None:
            frame["capacity"] = self.capacity.to_dict()
        return frame


_DAY_PARTS: tuple[tuple[int, str], ...] = (
    (0, "Midnight"),
    (1, "Night"),
    (4, "Early Morning"),
    (7, "Morning"),
    (12, "Noon"),
    (13, "Afternoon"),
    (17, "Early Evening"),
    (21, "Evening"),
)


def day_part(hour: int) -> str:
    """The bucket name of an hour of the day, as shown in the ``start`` ack's ``now``."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be between 0 and 23, got {hour}")
    name = _DAY_PARTS[0][1]
    for first_hour, bucket in _DAY_PARTS:
        if hour >= first_hour:
            name = bucket
    return name


def format_now(moment: datetime) -> str:
    """The ``now`` field of the ``start`` ack: UTC ISO-8601 with seconds plus the day part.

    A naive ``moment`` is taken to be UTC already.
    """
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    utc = utc.replace(microsecond=0)
    return f"{utc.isoformat()} ({day_part(utc.hour)})"
