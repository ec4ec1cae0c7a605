"""Session state (§8): what the bridge remembers per ``session_id``, process-wide.

A ``Session`` holds the persona, sampling overrides, prefixes, personalities and the history,
plus its running turn (a ``turn_machine.TurnMachine``). Changes to the history go through
``SessionHistory``'s pure methods, made by the machines; this module adds lifetime: creation,
TTL eviction, deletion on disconnect. No I/O happens here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from bridge.protocol.config import BridgeConfig
from bridge.protocol.frames import format_now
from bridge.protocol.history import SessionHistory
from bridge.protocol.personalities import PersonalityTable
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.sampling import SamplingOverrides
from bridge.protocol.screen_context import CaptureMemory


class SessionTurn(Protocol):
    """What a session needs to know of its running turn (``turn_machine.TurnMachine``)."""

    @property
    def finished(self) -> bool: ...


@dataclass
class Session:
    session_id: str
    now: str  # the ack's "now": fixed when the session is created
    persona_limiter: SlidingWindowLimiter
    gender: str = ""
    personality: str = ""
    chat_prompt: str | None = None
    sampling: SamplingOverrides | None = None
    check_screen_prefix: str | None = None
    screen_checked_prefix: str | None = None
    personalities: PersonalityTable | None = None
    history: SessionHistory = field(default_factory=SessionHistory)
    captures: CaptureMemory = field(default_factory=CaptureMemory)  # where the router said yes
    turn: SessionTurn | None = None
    last_access: float = 0.0

    def prefix_for_check(self, config: BridgeConfig) -> str:
        return self.check_screen_prefix or config.check_screen_prefix

    def prefix_for_followup(self, config: BridgeConfig) -> str:
        return self.screen_checked_prefix or config.screen_checked_prefix

    @property
    def turn_running(self) -> bool:
        return self.turn is not None and not self.turn.finished


class SessionStore:
    def __init__(
        self,
        config: BridgeConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._sessions: dict[str, Session] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is not None:
            session.last_access = self._clock()
        return session

    def open(self, session_id: str) -> Session:
        """The session for ``session_id``, created if needed (idle sessions are evicted first)."""
        self.evict_idle()
        session = self.get(session_id)
        if session is None:
            session = Session(
                session_id=session_id,
                now=format_now(self._wall_clock()),
                persona_limiter=SlidingWindowLimiter(
                    self.config.chat_prompt_update_max_per_window,
                    self.config.chat_prompt_update_window_seconds,
                    clock=self._clock,
                ),
                last_access=self._clock(),
            )
            self._sessions[session_id] = session
        return session

    def delete(self, session_id: str | None) -> None:
        if session_id is not None:
            self._sessions.pop(session_id, None)

    def evict_idle(self) -> int:
        """Drop sessions unused for ``SESSION_IDLE_TTL_SECONDS`` that run no turn."""
        ttl = self.config.session_idle_ttl_seconds
        if ttl <= 0:
            return 0
        cutoff = self._clock() - ttl
        stale = [
            sid
            for sid, s in self._sessions.items()
            if s.last_access < cutoff and not s.turn_running
        ]
        for sid in stale:
            del self._sessions[sid]
        return len(stale)
