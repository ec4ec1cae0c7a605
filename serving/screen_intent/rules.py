"""Coded vetoes of the labelling policy (pure, standard library only).

Two "no" rules of ``POLICY.md`` have a surface form that words alone decide, whatever the
context: **no-1** (a capture asked for with a count other than one, an open amount such as
"keep screenshotting" or "every minute", or several screens at once) and **no-2** (the current
line tells the assistant not to look or capture). ``policy_veto(text)`` names the rule when
the line has that form, else ``None``. The classifier runs it only on a "yes" (like the
language filter), so a veto can turn a "yes" into a "no" and never the other way.

The patterns are narrow on purpose: a veto that fires on a real "yes" costs recall, which the
model's own errors already cost. What they leave to the model: a line that mixes a negation
with a request ("don't look at the left one, look at this one"), "don't" in the sense of
"appear" ("these don't look right"), questions such as "why don't you look", counts of
things shown ("why do I have so many screenshots of coupons in here"). A unit test checks
that no training row labelled "yes" matches (``tests/unit/test_screen_intent_rules.py``).
"""

from __future__ import annotations

import re

# -- vocabulary ---------------------------------------------------------------------------

_CAPTURE_NOUN = (
    r"(?:screen\s?shots?|screenies|screeny|screenie|screen\s?caps?|screen\s?grabs?|caps|"
    r"captures|snapshots|snaps)"
)
# Taking a capture, as a verb ("screenshot it", "capture", "snap") or "take / grab / get" with a
# capture noun ("grab a quick screenshot"); "take" alone is too often "buy" or "choose".
_CAPTURE_ACT = (
    r"(?:screen\s?shot(?:s|ting|ted)?|screencap\w*|screen\s?cap(?:s|ping)?|capture|capturing|"
    r"snap(?:ping)?|(?:take|taking|grab|grabbing|get|getting|make|making)\s+(?:me\s+)?"
    r"(?:a\s+|one\s+|another\s+|the\s+)?(?:quick\s+)?(?:screen\s?shot|screencap|screen\s?cap|"
    r"capture|snapshot|snap|screen\s?grab|pic|picture|shot)s?)"
)
_MANY = (
    r"(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"fifty|a hundred|hundreds of|dozens of|a dozen|zero|[02-9]|\d\d+|a few|few|several|"
    r"a couple(?: of)?|couple(?: of)?|multiple|a bunch of|bunch of|lots of|a lot of|"
    r"loads of|many|a series of|a handful of|some)"
)
# A request verb a few words before a counted capture noun ("take like three screenshots",
# "can you grab me a few screenshots"); without one, a count describes what is shown.
_ASK = r"(?:take|grab|get|snap|make|capture|shoot|need|want|gimme|give me|send me)"
_SCREENS = (
    r"(?:phone|laptop|tablet|desktop|ipad|pc|computer|monitor|tv|watch|mac|macbook|"
    r"other screen|second screen|other monitor|second monitor)"
)
_TIME_UNIT = r"(?:second|sec|minute|min|hour)s?"
_LOOK = (
    r"(?:look|looking|peek|peeking|glance|screen\s?shot\w*|screencap\w*|captur\w+|snap\w*|"
    r"take (?:a |the |any |another )?(?:screen\s?shot|pic|picture|look|peek|capture)\w*|"
    r"see my screen|check|checking|read|reading|view|peep|grab|get a screen\s?shot|"
    r"get a (?:pic|picture|look|peek))\b"
)
# Where a clause starts: an imperative "don't look" is at one, "these don't look right" is not.
_CLAUSE = (
    r"(?:^|[,.!?;:()\-—–]\s*|\b(?:wait|ok|okay|k|no|nah|nope|and|but|pls|plz|please|hey|uh|um|"
    r"so|oh|actually|hold on|hang on|sorry|just|ah|hmm|yo|ooh|oops|then|now|whoa|woah|"
    r"erm|er|lol|omg)\s+)"
)

_FLAGS = re.IGNORECASE

# -- no-1 ---------------------------------------------------------------------------------

NO1_PATTERNS: tuple[re.Pattern[str], ...] = (
    # "take three screenshots", "grab me a few more screenshots", "I need 5 screen caps"
    re.compile(
        rf"\b{_ASK}\b(?:\s+\w+){{0,3}}?\s+{_MANY}\s+(?:more\s+|separate\s+|different\s+)?"
        rf"{_CAPTURE_NOUN}\b",
        _FLAGS,
    ),
    # "screenshot it three times", "take a screenshot of this twice"
    re.compile(
        rf"\b{_CAPTURE_ACT}\b[^.?!,]{{0,80}}?\b"
        rf"(?:twice|{_MANY} times|again and again|over and over)\b",
        _FLAGS,
    ),
    # "look at my display five times"
    re.compile(
        rf"\b(?:look|check)\s+(?:at\s+)?(?:my|the|this|it)\s+(?:screen\s+|display\s+|monitor\s+)?"
        rf"(?:twice|{_MANY} times)\b",
        _FLAGS,
    ),
    # "take a screenshot and two more after", "take one now and another one in five minutes"
    re.compile(
        rf"\b{_CAPTURE_ACT}\b[^.?!]{{0,80}}?\band (?:then |also |like |maybe )?"
        rf"(?:another(?: one)?|{_MANY} more)\b",
        _FLAGS,
    ),
    # "screenshot it every minute", "take a screenshot every time it changes"
    re.compile(
        rf"\b{_CAPTURE_ACT}\b[^.?!,]{{0,80}}?\bevery\s+(?:\d+\s+|few\s+|couple\s+(?:of\s+)?|other\s+)?"
        r"(?:second|sec|minute|min|hour|time|day|tab|page|window|frame|step|screen|monitor)s?\b",
        _FLAGS,
    ),
    # "check my screen every 30 seconds" (but "check this, it reloads every minute" points)
    re.compile(
        rf"\b(?:look|check|watch)\w*\s+(?:at\s+)?(?:my\s+|the\s+)?(?:screen|display|monitor|it)\s+"
        rf"every\s+(?:\d+\s+|few\s+)?{_TIME_UNIT}\b",
        _FLAGS,
    ),
    # "keep screenshotting", "keep taking screenshots", "constantly watch my screen"
    re.compile(
        r"\b(?:keep|continuously|constantly|repeatedly|non-?stop)\s+(?:\w+\s+){0,2}?"
        r"(?:screen\s?shot\w*|captur\w+|snapping|watch\w* (?:my|the) (?:screen|display|monitor)|"
        r"taking (?:screen\s?shot|pic|picture|snap|cap)\w*)",
        _FLAGS,
    ),
    # "screen record it", "record my screen": a video is not one capture
    re.compile(r"\b(?:screen\s?record\w*|record (?:my|the|this) (?:whole )?screen)\b", _FLAGS),
    # several screens at once: "capture my phone and my laptop", "both monitors", "all my tabs"
    re.compile(
        rf"\b{_CAPTURE_ACT}\b[^.?!]{{0,80}}?\b(?:my|the|this)\s+{_SCREENS}(?:\s+screen)?\s+"
        rf"(?:and|n|&|plus)\s+(?:my |the |this |that )?{_SCREENS}\b",
        _FLAGS,
    ),
    re.compile(
        rf"\b{_CAPTURE_ACT}\b[^.?!]{{0,80}}?\b(?:both|all|each|every one of)\s+(?:of\s+)?"
        r"(?:my\s+|the\s+)?(?:screens|monitors|tabs|windows|displays|devices)\b",
        _FLAGS,
    ),
    # one capture each of several things: "screenshot each entry", "take a screenshot of every
    # result page"
    re.compile(
        rf"\b{_CAPTURE_ACT}\b(?:\s+\w+){{0,2}}?\s+(?:of\s+)?(?:each|every)\b",
        _FLAGS,
    ),
    # "grab screenshots of all my favourites", "screenshot all three sizes" (but "one
    # screenshot of all the squares" is one capture)
    re.compile(
        r"\b(?:(?:screen\s?shots|screenshots|captures|snaps|screen\s?caps|screen\s?grabs)\s+of|"
        r"screen\s?shot|capture|snap)\s+all\s+(?:of\s+)?(?:my\s+|the\s+|their\s+|these\s+|those\s+)?"
        r"(?:two|three|four|five|six|\d+|[a-z]+s\b)",
        _FLAGS,
    ),
)

# -- no-2 ---------------------------------------------------------------------------------

# "don't look", "do not take a screenshot", "no need to look", "stop looking", "skip the
# screenshot", "I don't want you to see my screen", "wait before you look", "hold off on the
# screenshot", "no screenshots"; not "wait till you see this", which points at something
_NEGATED_LOOK = re.compile(
    rf"{_CLAUSE}(?:(?:please\s+|pls\s+|plz\s+|just\s+)?(?:don'?t|do not|dont|never)\s+"
    rf"(?:\w+\s+)?{_LOOK}"
    rf"|no need to\s+(?:\w+\s+)?{_LOOK}"
    rf"|(?:stop|quit)\s+(?:looking|peeking|screen\s?shotting|screenshotting|capturing|checking)\b"
    rf"|skip (?:the |a )?(?:screen\s?shot|screenshot|capture|look|peek)"
    rf"|no (?:screen\s?shots?|screenshots|captures|peeking|looking)\b"
    rf"|hold off (?:on )?(?:the )?(?:screen\s?shot\w*|captur\w+|look\w*)"
    rf"|(?:wait|hold on|hang on)\s+before\s+(?:you|u)\s+{_LOOK})"
    rf"|\b(?:i|we)\s+(?:don'?t|do not|dont)\s+want\s+(?:you|u)\s+to\s+{_LOOK}"
    rf"|\b(?:you|u)\s+(?:don'?t|do not|dont)\s+(?:need|have)\s+to\s+{_LOOK}",
    _FLAGS,
)
# A look or capture asked for after the negation lifts it within the line ("don't look at the
# price, look at the colour"): then the line is the model's to judge.
_LATER_LOOK = re.compile(
    rf"\b(?:(?:look|peek|glance)\s+(?:at|here|now)|{_CAPTURE_ACT}\s+(?:of\s+)?(?:it|this|that|now|"
    rf"the|my)|you can (?:look|see|peek)|go ahead)\b",
    _FLAGS,
)
# "why don't you look", "don't you want to see this": a request, not a negation
_QUESTION = re.compile(r"\b(?:why|how come)\s+(?:don'?t|dont|not)\b|\bdon'?t\s+you\b", _FLAGS)


def _negation(text: str) -> bool:
    if _QUESTION.search(text):
        return False
    found = _NEGATED_LOOK.search(text)
    if found is None:
        return False
    return _LATER_LOOK.search(text, found.end()) is None


#: Only the start of a longer line is read (a spoken request is short; the gaps the patterns
#: allow are bounded, so the cost grows with the length: ~1.5 ms per 1,000 characters at worst).
MAX_CHARS = 600


def policy_veto(text: str) -> str | None:
    """``"no-1"`` or ``"no-2"`` when the line's words alone make it a "no" by that rule."""
    line = " ".join(text[: MAX_CHARS * 4].split())[:MAX_CHARS].replace("\u2019", "'")
    if not line:
        return None
    if _negation(line):
        return "no-2"
    if any(pattern.search(line) for pattern in NO1_PATTERNS):
        return "no-1"
    return None
