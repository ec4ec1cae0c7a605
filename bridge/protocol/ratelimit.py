"""The sliding-window rate limiter of docs/protocol.md §10.1 (messages, cancels, persona updates).

A limiter remembers the monotonic times of the events it admitted. On each attempt it forgets
the ones at or before ``now - window``; if ``limit`` remain, the attempt is rejected (and not
remembered) with the seconds until the oldest one ages out. Slots free one by one; there are no
fixed window boundaries. A limit or window <= 0 disables the limiter.

The clock is injected (``time.monotonic`` by default) so tests need no sleeping.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from bridge.protocol.errors import retry_after_seconds


@dataclass(frozen=True, slots=True)
class RateLimited:
    """A rejected attempt: try again in ``retry_in`` whole seconds (>= 1)."""

    retry_in: int


class SlidingWindowLimiter:
    """At most ``limit`` admitted events in any ``window_s`` seconds."""

    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit
        self._window_s = window_s
        self._clock = clock
        self._admitted: deque[float] = deque()

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def window_s(self) -> float:
        return self._window_s

    @property
    def enabled(self) -> bool:
        return self._limit > 0 and self._window_s > 0

    def attempt(self) -> RateLimited | None:
        """Admit and record one event (None), or reject it without recording it."""
        if not self.enabled:
            return None
        now = self._clock()
        horizon = now - self._window_s
        while self._admitted and self._admitted[0] <= horizon:
            self._admitted.popleft()
        if len(self._admitted) >= self._limit:
            return RateLimited(retry_after_seconds(self._admitted[0] + self._window_s - now))
        self._admitted.append(now)
        return None
