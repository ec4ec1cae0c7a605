"""What the pure turn and connection machines ask their shell to do (docs/protocol.md §4.2, §7).

The machines (``turn_machine``, ``connection_machine``) are generators: each ``yield`` hands the
shell one effect. Commands (``Send``, ``Close``, ``AbortTurn`` ...) are answered with ``None``;
queries (``CountTokens`` ... ``NextDelta``) are answered with their result, or with an
exception thrown into the generator (``EngineUnavailable``, ``EngineRequestError``,
``TimeoutError``), which the machine turns into the frame the protocol wants.

This module is the bottom of the machines: plain data, no asyncio, no Triton.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Frame
from bridge.protocol.history import SessionHistory


class EngineUnavailable(ConnectionError):
    """Nothing answers: the engine is unreachable, shutting down or does not serve the model."""


class EngineRequestError(RuntimeError):
    """The engine answered this request with an error."""


@dataclass(frozen=True)
class ChatDelta:
    """One piece of a chat stream; ``final`` marks the last one (with the engine's stats)."""

    text: str
    final: bool
    stats: dict[str, Any] | None = None


class Effect:
    """Base of everything a machine yields."""

    __slots__ = ()


# -- commands (answered with None) ------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Send(Effect):
    """Write one frame (or error frame) to the client."""

    frame: Frame | ProtocolError


@dataclass(frozen=True, slots=True)
class Close(Effect):
    """Close the connection with ``code`` (after the frames sent so far)."""

    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RunTurn(Effect):
    """Start the turn as its own task (so the receive loop goes on): drive ``turn.run()``."""

    turn: Any  # turn_machine.TurnMachine (typed loosely: this module is below it)


@dataclass(frozen=True, slots=True)
class AbortTurn(Effect):
    """Stop all work of a turn at once: its task, its classifier call, its chat streams."""

    turn: Any


@dataclass(frozen=True, slots=True)
class TurnFinished(Effect):
    """A turn ended (``outcome``: ok, cancelled, or the error code): log and count it."""

    turn: Any
    outcome: str


@dataclass(frozen=True, slots=True)
class InBackground(Effect):
    """Drive ``script`` off the receive loop (warm-ups): the scripts of one connection run one
    after another, in the order asked, and never delay the next inbound message."""

    script: Generator[Effect, Any, None]


@dataclass(frozen=True, slots=True)
class Count(Effect):
    """Increment the bridge metric ``metric`` (with Prometheus labels)."""

    metric: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Observe(Effect):
    """Record ``seconds`` in the histogram ``metric``."""

    metric: str
    seconds: float


@dataclass(frozen=True, slots=True)
class CloseChat(Effect):
    """Cancel a chat stream opened by ``OpenChat`` (and abort it in the engine)."""

    chat: Any  # the shell's handle


# -- queries (answered with a value) ----------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ExceedsTokens(Effect):
    """-> bool: does ``text`` have more than ``max_tokens`` chat tokens?"""

    text: str
    max_tokens: int


@dataclass(frozen=True, slots=True)
class HeadTokens(Effect):
    """-> str: the first ``max_tokens`` tokens of ``text``."""

    text: str
    max_tokens: int


@dataclass(frozen=True, slots=True)
class TrimHistories(Effect):
    """-> tuple[SessionHistory, ...]: each history without its oldest turns beyond the budget.

    Several histories are trimmed with one tokenizer round trip.
    """

    histories: tuple[SessionHistory, ...]
    max_tokens: int


@dataclass(frozen=True, slots=True)
class TrimText(Effect):
    """-> str: the "preserve messages" trim of a history text (§8.4)."""

    text: str
    max_tokens: int


@dataclass(frozen=True, slots=True)
class Warm(Effect):
    """-> None once the chat model has prefilled ``messages`` (one greedy token, warm
    priority); ``TimeoutError`` after ``timeout_s``."""

    messages: tuple[Mapping[str, str], ...]
    timeout_s: float


@dataclass(frozen=True, slots=True)
class Classify(Effect):
    """-> bool: the screen-intent decision; ``TimeoutError`` after ``timeout_s``."""

    utterance: str
    context: Sequence[Any]
    timeout_s: float


@dataclass(frozen=True, slots=True)
class OpenChat(Effect):
    """-> a chat handle: start streaming a chat request (it may run ahead of ``NextDelta``)."""

    messages: tuple[Mapping[str, str], ...]
    sampling: Mapping[str, Any]
    request_id: str


@dataclass(frozen=True, slots=True)
class NextDelta(Effect):
    """-> ChatDelta | None (the stream ended without a final delta); ``TimeoutError`` after
    ``timeout_s``."""

    chat: Any
    timeout_s: float


Script: TypeAlias = Generator[Effect, Any, None]
