"""Stop strings without a fixed hold-back (pure).

vLLM's detokenizer holds back the last ``len(longest stop string) - 1`` characters of a stream
so that it never emits the start of a stop string. With the usual chat stop list
(``<|start_header_id|>`` is 19 characters) that delays the first streamed text by several
tokens: 130-500 ms on CPU, measured. Here only a tail that really is the start of a stop string
is held back, so ordinary text streams as soon as it exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class StopScan:
    safe: int  # text[:safe] can be emitted now
    stop_at: int | None = None  # index where a complete stop string starts
    stop: str | None = None


class StopStrings:
    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(dict.fromkeys(s for s in stops if s))
        self.longest = max((len(s) for s in self.stops), default=0)

    def __bool__(self) -> bool:
        return bool(self.stops)

    def scan(self, text: str, searched: int = 0) -> StopScan:
        """Look for stop strings in ``text``; ``searched`` is how far an earlier scan got."""
        start = max(0, searched - self.longest + 1)
        first: tuple[int, str] | None = None
        for stop in self.stops:
            index = text.find(stop, start)
            if index != -1 and (first is None or index < first[0]):
                first = (index, stop)
        if first is not None:
            return StopScan(first[0], first[0], first[1])
        hold = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), hold, -1):
                if text.endswith(stop[:size]):
                    hold = size
                    break
        return StopScan(len(text) - hold)
