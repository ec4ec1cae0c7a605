"""The connection capacity that the WebSocket and the OpenAI doors share (docs/protocol.md §3)."""

from __future__ import annotations

import asyncio


class Capacity:
    """The connection semaphore of §3, with the counts the rejection frame reports."""

    def __init__(self, maximum: int) -> None:
        self.maximum = maximum
        self.active = 0
        self._freed = asyncio.Condition()

    async def acquire(self, timeout_s: float) -> bool:
        async with self._freed:
            try:
                await asyncio.wait_for(
                    self._freed.wait_for(lambda: self.active < self.maximum), timeout_s
                )
            except TimeoutError:
                return False
            self.active += 1
            return True

    async def release(self) -> None:
        async with self._freed:
            self.active -= 1
            self._freed.notify()
