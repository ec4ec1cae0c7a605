"""The tool router's view of a conversation: earlier user lines, each marked when the screen
was captured at it (pure; the session remembers the captures, the gateway sends the result).

Policy rule yes-4 needs to know what was just captured: a follow-up question about it is a
"no", a new item a "yes". The client's ``history_text`` holds only what was said, so the bridge
marks a line as captured when

- the router said yes at it in this session (``CaptureMemory``), or
- the next stored user turn is a screen analysis, i.e. starts with the session's
  ``screen_checked_prefix`` (a ``followup`` stores ``ON THE SCREEN NOW: ...``); such analysis
  lines are not user speech and are left out of the context.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

#: Captured utterances remembered per session (enough for the classifier's context window).
CAPTURE_MEMORY = 64


def _key(text: str) -> str:
    return " ".join(text.lower().split())


class CaptureMemory:
    """The utterances of a session at which the screen was captured (newest last)."""

    def __init__(self, size: int = CAPTURE_MEMORY) -> None:
        self._seen: deque[str] = deque(maxlen=size)

    def remember(self, utterance: str) -> None:
        if utterance.strip():
            self._seen.append(_key(utterance))

    def __contains__(self, utterance: object) -> bool:
        return isinstance(utterance, str) and _key(utterance) in self._seen


def router_context(
    user_lines: Sequence[str], captures: CaptureMemory, screen_checked_prefix: str
) -> list[dict[str, Any]]:
    """``[{"text", "captured"}]``, oldest first, for the screen_intent model's ``context``."""
    prefix = screen_checked_prefix.strip().lower()
    out: list[dict[str, Any]] = []
    for line in user_lines:
        if not line.strip():
            continue
        if prefix and line.strip().lower().startswith(prefix):
            if out:
                out[-1]["captured"] = True
            continue
        out.append({"text": line, "captured": line in captures})
    return out
