"""The tool decision's phrase filter and the ``toolcall`` frame mapping (§12.1, §12.4).

The phrase filter runs before the language filter and the classifier. Its regexes are
anchored, case-insensitive and applied to the stripped utterance; the first rule that matches
decides, and the result is the tool text the classifier would otherwise have produced
(``[{"name": "take_screenshot"}]``, ``[]``, ...). The bridge never applies the gender or
personality switches it reports; the client follows up with ``chat_prompt``.

``toolcall_from_text`` turns any tool text into the ``toolcall`` frame.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bridge.protocol.frames import JsonValue, ToolCall
from bridge.protocol.personalities import PersonalityTable

TAKE_SCREENSHOT: Final = '[{"name": "take_screenshot"}]'
NO_TOOL: Final = "[]"
START_FREESTYLE: Final = '[{"name": "start_freestyle"}]'
STOP_FREESTYLE: Final = '[{"name": "stop_freestyle"}]'


def switch_gender(gender: str) -> str:
    return json.dumps([{"name": "switch_gender", "param": gender}])


def switch_personality(name: str) -> str:
    return json.dumps([{"name": "switch_personality", "param": name}])


_FREESTYLE = r"fre+st[iy]le?"
_END = r"[.!?]*"


def _compile(patterns: Sequence[str]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(pattern + r"\Z", re.IGNORECASE) for pattern in patterns)


_FREESTYLE_START: Final = _compile(
    [
        rf"start\s+{_FREESTYLE}{_END}",
        rf"start\s+{_FREESTYLE}\s+\w+{_END}",
        rf"can\s+you\s+start\s+{_FREESTYLE}{_END}",
        rf"please\s+start\s+{_FREESTYLE}{_END}",
        rf"please\s+start\s+{_FREESTYLE}\s+\w+{_END}",
        rf"mind\s+starting\s+{_FREESTYLE}{_END}",
        rf"mind\s+starting\s+{_FREESTYLE}\s+\w+{_END}",
        rf"just\s+start\s+{_FREESTYLE}{_END}",
        rf"just\s+start\s+{_FREESTYLE}\s+already{_END}",
    ]
)
_FREESTYLE_STOP: Final = _compile(
    [
        rf"stop\s+{_FREESTYLE}{_END}",
        rf"stop\s+{_FREESTYLE}\s+\w+{_END}",
        rf"stopping\s+{_FREESTYLE}{_END}",
        rf"can\s+you\s+stop\s+{_FREESTYLE}{_END}",
        rf"please\s+stop\s+{_FREESTYLE}{_END}",
        rf"please\s+stop\s+{_FREESTYLE}\s+\w+{_END}",
        rf"mind\s+stop(?:ping)?\s+{_FREESTYLE}{_END}",
        rf"mind\s+stop(?:ping)?\s+{_FREESTYLE}\s+\w+{_END}",
        rf"just\s+stop\s+{_FREESTYLE}{_END}",
        rf"just\s+stop\s+{_FREESTYLE}\s+already{_END}",
    ]
)
_MALE_WORD = r"(?:guy?|him|male?|hunk|dude?|boy?|marc|mark|marck)"
_FEMALE_WORD = r"(?:gal?|girl?|female|femme|ana|anna|annan)"
_GENDER_MALE: Final = _compile(
    [rf"switch\s+to\s+{_MALE_WORD}{_END}", rf"change\s+to\s+{_MALE_WORD}{_END}"]
)
_GENDER_FEMALE: Final = _compile(
    [rf"switch\s+to\s+{_FEMALE_WORD}{_END}", rf"change\s+to\s+{_FEMALE_WORD}{_END}"]
)
_PERSONALITY_TEMPLATES: Final = (
    r"bee?\s+more\s+(?P<word>{0}){1}",
    r"bee?\s+more\s+(?P<word>{0})\s+\w+{1}",
    r"bee?\s+(?P<word>{0}){1}",
    r"bee?\s+(?P<word>{0})\s+\w+{1}",
    r"can\s+you\s+bee?\s+more\s+(?P<word>{0}){1}",
    r"can\s+you\s+bee?\s+more\s+(?P<word>{0})\s+\w+{1}",
    r"can\s+you\s+bee?\s+(?P<word>{0}){1}",
    r"can\s+you\s+bee?\s+(?P<word>{0})\s+\w+{1}",
)
_SCREENSHOT_REJECT: Final = _compile(
    [
        rf"{verb}\s+{what}"
        for verb in ("look", "check")
        for what in (
            rf"twice(?:\s+at\s+this)?{_END}",
            rf"thrice(?:\s+at\s+this)?{_END}",
            rf"multiple\s+times{_END}",
        )
    ]
)
_TAKE_N_SCREENSHOTS: Final = re.compile(rf"take\s+(\w+)\s+screenshots?{_END}\Z", re.IGNORECASE)
_ONE_SCREENSHOT_WORDS: Final = frozenset({"one", "1", "once", "a"})
_SCREENSHOT_TRIGGERS: Final = _compile(
    [
        rf"take\s+screenshots?{_END}",
        rf"screenshot\s+this{_END}",
        rf"sceenshot\s+this{_END}",
        rf"lok\s+at\s+this{_END}",
        rf"lock\s+at\s+this{_END}",
        rf"tkae\s+a\s+look{_END}",
        rf"teak\s+a\s+look{_END}",
    ]
)


@dataclass(frozen=True, slots=True)
class _PersonalityRule:
    table: PersonalityTable
    patterns: tuple[re.Pattern[str], ...]

    @classmethod
    def build(cls, table: PersonalityTable) -> _PersonalityRule:
        alternation = "|".join(re.escape(word) for word in sorted({w for w, _ in table.words()}))
        return cls(
            table,
            tuple(
                re.compile(template.format(alternation, _END) + r"\Z", re.IGNORECASE)
                for template in _PERSONALITY_TEMPLATES
            ),
        )

    def match(self, text: str) -> str | None:
        for pattern in self.patterns:
            found = pattern.match(text)
            if found is None:
                continue
            matched = found.group("word")
            # Same case-insensitivity as the regex itself, so every match finds its name.
            for word, name in self.table.words():
                if re.fullmatch(re.escape(word), matched, re.IGNORECASE):
                    return name
        return None


@functools.lru_cache(maxsize=256)
def _personality_rule(table: PersonalityTable) -> _PersonalityRule:
    # Sessions keep their table across turns: compile its patterns once.
    return _PersonalityRule.build(table)


def _any(patterns: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(pattern.match(text) for pattern in patterns)


def match_phrase(utterance: str, personalities: PersonalityTable | None = None) -> str | None:
    """The tool text decided by the phrase rules, or None when no rule matches."""
    text = utterance.strip()
    if _any(_FREESTYLE_START, text):
        return START_FREESTYLE
    if _any(_FREESTYLE_STOP, text):
        return STOP_FREESTYLE
    if _any(_GENDER_MALE, text):
        return switch_gender("male")
    if _any(_GENDER_FEMALE, text):
        return switch_gender("female")
    if personalities is not None and personalities.entries:
        name = _personality_rule(personalities).match(text)
        if name is not None:
            return switch_personality(name)
    if _any(_SCREENSHOT_REJECT, text):
        return NO_TOOL
    take = _TAKE_N_SCREENSHOTS.match(text)
    if take is not None:
        return TAKE_SCREENSHOT if take.group(1).lower() in _ONE_SCREENSHOT_WORDS else NO_TOOL
    if _any(_SCREENSHOT_TRIGGERS, text):
        return TAKE_SCREENSHOT
    return None


_LEADING_FENCE: Final = re.compile(r"\A\s*```[\w+.-]*[ \t]*\n?")
_TRAILING_FENCE: Final = re.compile(r"\n?[ \t]*```\s*\Z")


def strip_code_fences(text: str) -> str:
    """Remove a leading ```` ```lang ```` line and a trailing ```` ``` ````, then strip."""
    return _TRAILING_FENCE.sub("", _LEADING_FENCE.sub("", text)).strip()


def _reject_constant(name: str) -> JsonValue:
    # NaN / Infinity are not JSON; treat such output as invalid text.
    raise ValueError(f"not JSON: {name}")


def toolcall_from_text(text: str | None) -> ToolCall:
    """Map tool output text to the ``toolcall`` frame (§12.4).

    A JSON list gives ``raw=list`` and ``yes`` when non-empty; other valid JSON gives
    ``raw=null``; invalid JSON gives ``raw=<the fence-stripped text>``; empty text gives
    ``raw=null``. All but a non-empty list give ``no``.
    """
    if not text or not text.strip():
        return ToolCall(status="no", raw=None)
    body = strip_code_fences(text)
    if not body:
        return ToolCall(status="no", raw=None)
    try:
        parsed: JsonValue = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return ToolCall(status="no", raw=body)
    if isinstance(parsed, list):
        return ToolCall(status="yes" if parsed else "no", raw=parsed)
    return ToolCall(status="no", raw=None)
