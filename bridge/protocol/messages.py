"""Client -> server messages: one text frame in, one typed message or one error out (§4.1).

``parse_client_message`` never raises and never looks at session state. It only decides what
kind of message a frame is; the fields are validated later (``validation``), after the rate
limiter has seen the message (§4.2).

Steps (docs/protocol.md §4.1, with the project's decisions):

1. Strip surrounding whitespace; empty -> ``invalid_message`` "Empty message.".
2. Exactly the cancel sentinel -> ``Cancel``; exactly the end sentinel -> ``End``.
3. Parse JSON (failure, including absurd nesting -> "Message must be valid JSON or a sentinel
   string."); a non-object -> "Message must be a JSON object.".
4. ``type`` is normalised with ``strip().lower()``. When it is missing, null, or blank after
   normalising, a truthy ``cancel`` makes it ``cancel``, else a truthy ``end`` makes it ``end``,
   else "Missing 'type' in message.". A ``type`` that is not a string is an ``invalid_message``
   ("'type' must be a string.") instead of the reference's ``str(type)``.
5. ``request_id``, when present and not null, becomes a string: strings as they are, other
   JSON values in their JSON spelling (``1`` -> ``"1"``, ``true`` -> ``"true"``).

Unknown types parse to ``Unknown``; the caller answers ``unknown_message_type`` after rate
limiting. Binary frames never reach the parser: answer them with ``binary_frame_error()``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal, TypeAlias

from bridge.protocol import errors
from bridge.protocol.errors import ProtocolError

LimiterKind: TypeAlias = Literal["message", "cancel"]

DEFAULT_END_SENTINEL = "__END__"
DEFAULT_CANCEL_SENTINEL = "__CANCEL__"

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """A parsed inbound message: the raw JSON object (read-only) and its request id.

    ``limiter`` names the rate limiter the message counts against (§4.2, §10.1): ``None`` for
    ``ping``, ``pong`` and ``end``.
    """

    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False)
    request_id: str | None = None

    type: ClassVar[str] = ""
    limiter: ClassVar[LimiterKind | None] = "message"


@dataclass(frozen=True, slots=True)
class Start(ClientMessage):
    type: ClassVar[str] = "start"


@dataclass(frozen=True, slots=True)
class Cancel(ClientMessage):
    type: ClassVar[str] = "cancel"
    limiter: ClassVar[LimiterKind | None] = "cancel"


@dataclass(frozen=True, slots=True)
class End(ClientMessage):
    type: ClassVar[str] = "end"
    limiter: ClassVar[LimiterKind | None] = None


@dataclass(frozen=True, slots=True)
class Ping(ClientMessage):
    type: ClassVar[str] = "ping"
    limiter: ClassVar[LimiterKind | None] = None


@dataclass(frozen=True, slots=True)
class Pong(ClientMessage):
    type: ClassVar[str] = "pong"
    limiter: ClassVar[LimiterKind | None] = None


@dataclass(frozen=True, slots=True)
class WarmPersona(ClientMessage):
    type: ClassVar[str] = "warm_persona"


@dataclass(frozen=True, slots=True)
class WarmHistory(ClientMessage):
    type: ClassVar[str] = "warm_history"


@dataclass(frozen=True, slots=True)
class ChatPromptUpdate(ClientMessage):
    type: ClassVar[str] = "chat_prompt"


@dataclass(frozen=True, slots=True)
class Followup(ClientMessage):
    type: ClassVar[str] = "followup"


@dataclass(frozen=True, slots=True)
class SetPersona(ClientMessage):
    """v-old persona switch (§18.1), handled like a ``chat_prompt`` update."""

    type: ClassVar[str] = "set_persona"


@dataclass(frozen=True, slots=True)
class Unknown(ClientMessage):
    """A well-formed message of a type this server does not support."""

    message_type: str = ""


MESSAGE_TYPES: Mapping[str, type[ClientMessage]] = MappingProxyType(
    {
        kind.type: kind
        for kind in (
            Start,
            Cancel,
            End,
            Ping,
            Pong,
            WarmPersona,
            WarmHistory,
            ChatPromptUpdate,
            Followup,
            SetPersona,
        )
    }
)


def parse_client_message(
    text: str,
    *,
    end_sentinel: str = DEFAULT_END_SENTINEL,
    cancel_sentinel: str = DEFAULT_CANCEL_SENTINEL,
) -> ClientMessage | ProtocolError:
    """Turn one inbound text frame into a typed message or an ``invalid_message`` error."""
    stripped = text.strip()
    if not stripped:
        return errors.invalid_message(errors.EMPTY_MESSAGE)
    if stripped == cancel_sentinel:
        return Cancel()
    if stripped == end_sentinel:
        return End()
    try:
        payload = json.loads(stripped)
    except (ValueError, RecursionError):
        return errors.invalid_message(errors.NOT_JSON)
    if not isinstance(payload, dict):
        return errors.invalid_message(errors.NOT_AN_OBJECT)

    raw_type = payload.get("type")
    if raw_type is not None and not isinstance(raw_type, str):
        return errors.invalid_message(errors.TYPE_NOT_A_STRING)
    message_type = (raw_type or "").strip().lower()
    if not message_type:
        if payload.get("cancel"):
            message_type = Cancel.type
        elif payload.get("end"):
            message_type = End.type
        else:
            return errors.invalid_message(errors.MISSING_TYPE)

    fields = MappingProxyType(payload)
    request_id = _request_id_text(payload.get("request_id"))
    kind = MESSAGE_TYPES.get(message_type)
    if kind is None:
        return Unknown(fields, request_id, message_type=message_type)
    return kind(fields, request_id)


def binary_frame_error() -> ProtocolError:
    """The answer to a binary frame: ``invalid_message``, and the connection stays open."""
    return errors.binary_frame()


def _request_id_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (ValueError, RecursionError):
        # Unreachable for values json.loads produced; the parser must never raise anyway.
        return None
