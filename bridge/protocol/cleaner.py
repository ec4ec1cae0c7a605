"""The chat output cleaner (docs/protocol.md §13), as a whole-text function and as a stream.

``clean(text)`` applies the rules below, in order, to a whole text. ``StreamingCleaner``
applies the same rules to a stream of raw model deltas and guarantees, for *any* split of a
raw text into deltas::

    "".join(cleaner.feed(d) for d in deltas) + cleaner.finish() == clean("".join(deltas))

So streaming never drops, duplicates or skews characters (decision 3), and
``final.normalized_text`` -- the concatenation of what was emitted -- equals ``clean(raw)``.

How the stream keeps that promise: every rule is a separate stage, and each stage emits only
the part of its input that no later input can change. A stage holds back the shortest tail
that could still be rewritten -- a partial emoticon (``:``), ``.``/``..``, trailing whitespace,
a ``\\`` or ``/`` that may start ``\\n``/``/n``, ``<`` of an unfinished HTML tag, ``&`` of an
unfinished entity, a word of ``o``/``h`` letters, an emoji that a variation selector may still
follow, or a text that may still turn into the "freestyle mode" prefix -- and releases it as
soon as the next character decides, or at ``finish()``. A stage's output is then the same
whatever the chunking, and so is the output of the chain. ``cancel()`` drops the held tail.

Rules (applied in this order; all regexes are Python ``re``):

1. Freestyle prefix: at the very start, once, ``\\s*freestyle mode\\b\\.?`` (any case), then
   any whitespace, ``:`` and spaces after it. The ``\\b`` is an addition: ``freestyle modern``
   is left alone.
2. ``…`` plus the spaces/tabs after it -> ``...``.
3. A run of newlines (``\\n``, ``\\r\\n``), literal ``\\n`` (backslash-n) or ``/n``, with the
   whitespace around it -> one space.
4. Exactly two dots plus the whitespace after them -> ``...``.
5. Three dots followed by more dots (whitespace allowed between) -> ``...``.
   Rules 4 and 5 turn ``..``, ``...`` and longer dot runs into ``...``.
6. Whitespace before ``'``, ``,``, ``?``, ``!`` is removed (not before ``.``).
7. Escaped quotes ``\\"`` and ``\\'`` -> ``'``.
8. A whole word ``[oO][oOhH]+`` with more than two ``o`` or more than one ``h`` -> ``Ooh`` /
   ``ooh`` (capital when the word starts with one).
9. Emoji (U+1F1E6-1F1FF, 1F300-1F5FF, 1F600-1F64F, 1F680-1F6FF, 1F700-1F77F, 1F780-1F7FF,
   1F800-1F8FF, 1F900-1F9FF, 1FA00-1FAFF, 2600-26FF, 2700-27BF) -> a space each; a variation
   selector (U+FE0E/U+FE0F) or zero-width joiner (U+200D) right after an emoji goes with it.
10. Emoticons -> a space, but only when they stand alone: **not preceded by a letter or digit
    and not followed by a letter or digit** (Unicode ``[^\\W_]``). That keeps ``8pm``,
    ``10:30``, ``3:30``, ``1:2``, ``http://x.com``, ``https://x.com``, ``x8P`` and ``8Px``.
    Emoticons (any case): ``:``/``=``/``;`` eyes with an optional ``-``/``^`` nose and a mouth
    in ``) D P ( ] / \\ O``; ``8`` eyes only with a nose (``8-)``, ``8^D``: a bare ``8)`` or
    ``8D`` is too often text, as in "(up to 8)" or "8D audio"); ``:'(``, ``<3``, ``:|``,
    ``:-|``, ``:3``, ``^_^``, ``T_T``, ``¯\\_(ツ)_/¯``. Then every run of 2+ spaces/tabs -> one
    space.
11. HTML: tags ``</?[A-Za-z][^<>]{0,62}>`` are removed (a ``<`` that does not start such a
    tag, as in ``a < b``, stays), then complete entities are decoded: ``&name;`` (HTML5
    names), ``&#NN;``, ``&#xHH;``; a bare ``&`` or an unterminated entity stays as it is.
12. The first letter (``str.isalpha``) is upper-cased.
13. Leading and trailing whitespace is removed.

Differences from the reference's rules, all decisions of this project: the ``\\b`` of rule 1;
the look-arounds of rules 4-5 (any run of 3+ dots becomes ``...``); the selectors and joiners
of rule 9; the "alone" condition and the nose-only ``8`` of rule 10; the bounded tag shape and
complete-entity decoding of rule 11 (the reference removed ``<[^>]+>`` and ran
``html.unescape``); rule 13. Each keeps the held-back tail of a stream short. The reference
quirks ``meet at 8pm`` -> ``Meet at m``, ``at 10:30 then`` -> ``At 10 0 then`` and
``see http://x.com`` -> ``See http /x.com`` are gone (decision 3).
"""

from __future__ import annotations

import html
import html.entities
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

Replacement = str | Callable[[re.Match[str]], str]

# ---------------------------------------------------------------------------------------------
# Rule 1: the freestyle prefix
# ---------------------------------------------------------------------------------------------

_FREESTYLE_WORDS: Final = "freestyle mode"
_FREESTYLE_PREFIX: Final = re.compile(r"\s*freestyle mode\b\.?\s*[: ]*\s*", re.IGNORECASE)


def _nested_optional(atoms: Sequence[str]) -> str:
    """``a(?:b(?:c)?)?``: matches every non-empty prefix of the sequence ``abc``."""
    pattern = ""
    for atom in reversed(atoms[1:]):
        pattern = f"(?:{atom}{pattern})?"
    return atoms[0] + pattern


# Whitespace, or whitespace plus a proper prefix of "freestyle mode": the stream must wait.
_FREESTYLE_PENDING: Final = re.compile(
    r"\s*(?:" + _nested_optional([re.escape(c) for c in _FREESTYLE_WORDS]) + r")?\Z",
    re.IGNORECASE,
)


def _strip_freestyle_prefix(text: str) -> str:
    found = _FREESTYLE_PREFIX.match(text)
    return text[found.end() :] if found else text


# ---------------------------------------------------------------------------------------------
# Rules 2-11: regex substitutions, each with the tail a stream must hold back
# ---------------------------------------------------------------------------------------------

TailFinder = Callable[[str, int], int]


@dataclass(frozen=True, slots=True)
class _Rule:
    """A substitution; ``unstable_tail(buffer, start)`` is where its undecided tail begins.

    Contract of ``unstable_tail``: every match attempt at a position before the returned index
    has the same outcome (match or not, and the same extent) whatever text is appended to the
    buffer. Returning too small an index is safe (it only delays output); too large is a bug.
    """

    name: str
    pattern: re.Pattern[str]
    replacement: Replacement
    unstable_tail: TailFinder

    def substitute(self, found: re.Match[str]) -> str:
        return self.replacement if isinstance(self.replacement, str) else self.replacement(found)

    def apply(self, text: str) -> str:
        return self.pattern.sub(self.substitute, text)


def _tail(pattern: str, flags: int = 0) -> TailFinder:
    """A tail finder from a regex describing the undecided tail (anchored at the end here)."""
    compiled = re.compile(f"(?:{pattern})\\Z", flags)

    def unstable_tail(buffer: str, start: int) -> int:
        found = compiled.search(buffer, start)
        return found.start() if found else len(buffer)

    return unstable_tail


def _shorten_oh(found: re.Match[str]) -> str:
    word = found.group(0)
    lowered = word.lower()
    if lowered.count("o") <= 2 and lowered.count("h") <= 1:
        return word
    return "Ooh" if word[0].isupper() else "ooh"


_EMOJI_CLASS: Final = (
    "["
    "\U0001f1e6-\U0001f1ff"
    "\U0001f300-\U0001f5ff"
    "\U0001f600-\U0001f64f"
    "\U0001f680-\U0001f6ff"
    "\U0001f700-\U0001f77f"
    "\U0001f780-\U0001f7ff"
    "\U0001f800-\U0001f8ff"
    "\U0001f900-\U0001f9ff"
    "\U0001fa00-\U0001fa6f"
    "\U0001fa70-\U0001faff"
    "\u2600-\u26ff"
    "\u2700-\u27bf"
    "]"
)
_EMOJI: Final = _EMOJI_CLASS + "[\ufe0e\ufe0f\u200d]*"

_ALNUM: Final = r"[^\W_]"
_ALNUM_CHAR: Final = re.compile(_ALNUM)
_MOUTH: Final = r"[)dp(\]/\\o]"
# Each emoticon as a sequence of one-character atoms (matched case-insensitively).
_EMOTICON_SHAPES: Final[tuple[tuple[str, ...], ...]] = (
    (r"[:=;]", r"[\-^]", _MOUTH),
    (r"[:=;]", _MOUTH),
    (r"8", r"[\-^]", _MOUTH),
    (r":", r"'", r"\("),
    (r"<", r"3"),
    (r":", r"-", r"\|"),
    (r":", r"\|"),
    (r":", r"3"),
    (r"\^", r"_", r"\^"),
    (r"t", r"_", r"t"),
    (r"¯", r"\\", r"_", r"\(", r"ツ", r"\)", r"_", r"/", r"¯"),
)
_EMOTICON: Final = re.compile(
    rf"(?<!{_ALNUM})(?:"
    + "|".join("".join(shape) for shape in _EMOTICON_SHAPES)
    + rf")(?!{_ALNUM})",
    re.IGNORECASE,
)
_EMOTICON_STARTS: Final = tuple(
    re.compile(_nested_optional(shape) + r"\Z", re.IGNORECASE) for shape in _EMOTICON_SHAPES
)
_LONGEST_EMOTICON: Final = max(len(shape) for shape in _EMOTICON_SHAPES)


def _emoticon_tail(buffer: str, start: int) -> int:
    # An attempt is undecided when the text from it to the end is a (possibly complete)
    # prefix of an emoticon: the next character may complete it or break the "alone" rule.
    for position in range(max(start, len(buffer) - _LONGEST_EMOTICON), len(buffer)):
        if position > 0 and _ALNUM_CHAR.match(buffer, position - 1):
            continue  # preceded by a letter or digit: never an emoticon here
        if any(shape.match(buffer, position) for shape in _EMOTICON_STARTS):
            return position
    return len(buffer)


_TAG_BODY: Final = 62
_ENTITY: Final = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{0,31});")


def _decode_entity(found: re.Match[str]) -> str:
    entity = found.group(0)
    if entity[1] == "#":
        return html.unescape(entity)
    return html.entities.html5.get(entity[1:], entity)


_RULES: Final[tuple[_Rule, ...]] = (
    _Rule("ellipsis", re.compile(r"…[ \t]*"), "...", _tail(r"…[ \t]*")),
    _Rule(
        "newlines",
        re.compile(r"\s*(?:(?:\r?\n|\\n|/n)\s*)+"),
        " ",
        _tail(r"(?:\s|\\n|/n)*[\\/]?"),
    ),
    _Rule("double_dot", re.compile(r"(?<!\.)\.\.(?!\.)\s*"), "...", _tail(r"\.(?:\.\s*)?")),
    _Rule(
        "dot_run",
        re.compile(r"\.\.\.(?:\s*\.)+"),
        "...",
        _tail(r"\.\.?|\.\.\.(?:\s*\.)*\s*"),
    ),
    _Rule("space_before_punctuation", re.compile(r"\s+(?=[',?!])"), "", _tail(r"\s+")),
    _Rule("escaped_quote", re.compile(r"\\[\"']"), "'", _tail(r"\\")),
    _Rule(
        "exaggerated_oh",
        re.compile(r"\b[oO][oOhH]+\b"),
        _shorten_oh,
        _tail(r"\b[oO][oOhH]*"),
    ),
    _Rule("emoji", re.compile(_EMOJI), " ", _tail(_EMOJI)),
    _Rule("emoticon", _EMOTICON, " ", _emoticon_tail),
    _Rule("collapse_spaces", re.compile(r"[ \t]{2,}"), " ", _tail(r"[ \t]+")),
    _Rule(
        "html_tag",
        re.compile(rf"</?[A-Za-z][^<>]{{0,{_TAG_BODY}}}>"),
        "",
        _tail(rf"</?(?:[A-Za-z][^<>]{{0,{_TAG_BODY}}})?"),
    ),
    _Rule(
        "html_entity",
        _ENTITY,
        _decode_entity,
        _tail(r"&(?:#(?:[0-9]{0,7}|[xX][0-9A-Fa-f]{0,6})|[A-Za-z][A-Za-z0-9]{0,31})?"),
    ),
)


def _capitalize_first_letter(text: str) -> str:
    for index, char in enumerate(text):
        if char.isalpha():
            if char.islower():
                return f"{text[:index]}{char.upper()}{text[index + 1 :]}"
            return text
    return text


def clean(text: str) -> str:
    """Apply the output rules to a whole text (the reference for the streaming cleaner)."""
    text = _strip_freestyle_prefix(text)
    for rule in _RULES:
        text = rule.apply(text)
    return _capitalize_first_letter(text).strip()


# ---------------------------------------------------------------------------------------------
# Streaming
# ---------------------------------------------------------------------------------------------


class _Stage(Protocol):
    def feed(self, text: str) -> str: ...

    def finish(self) -> str: ...


class _FreestyleStage:
    """Rule 1: waits until the text can no longer turn into (more of) the prefix."""

    def __init__(self) -> None:
        self._buffer = ""
        self._decided = False

    def _decide(self, text: str) -> str:
        self._decided = True
        self._buffer = ""
        return text

    def feed(self, text: str) -> str:
        if self._decided:
            return text
        self._buffer += text
        found = _FREESTYLE_PREFIX.match(self._buffer)
        if found is not None:
            if found.end() == len(self._buffer):
                return ""  # more dots, spaces or colons may follow, or a letter may cancel it
            return self._decide(self._buffer[found.end() :])
        if _FREESTYLE_PENDING.match(self._buffer):
            return ""
        return self._decide(self._buffer)

    def finish(self) -> str:
        if self._decided:
            return ""
        return self._decide(_strip_freestyle_prefix(self._buffer))


class _RuleStage:
    """Runs one substitution over a stream, holding back the rule's undecided tail."""

    _CONTEXT = 8  # processed characters kept for look-behinds and \b

    def __init__(self, rule: _Rule) -> None:
        self._rule = rule
        self._context = ""
        self._pending = ""

    def feed(self, text: str) -> str:
        if not text:
            return ""
        self._pending += text
        return self._process(final=False)

    def finish(self) -> str:
        return self._process(final=True)

    def _process(self, *, final: bool) -> str:
        buffer = self._context + self._pending
        start = len(self._context)
        limit = len(buffer) if final else max(start, self._rule.unstable_tail(buffer, start))
        pieces: list[str] = []
        position = start
        for found in self._rule.pattern.finditer(buffer, start):
            if found.start() >= limit:
                break
            if found.end() > limit:
                # Decided, but it reaches into the held tail: wait for the whole of it.
                limit = found.start()
                break
            pieces.append(buffer[position : found.start()])
            pieces.append(self._rule.substitute(found))
            position = found.end()
        pieces.append(buffer[position:limit])
        self._context = buffer[max(0, limit - self._CONTEXT) : limit]
        self._pending = buffer[limit:]
        return "".join(pieces)


class _CapitalizeStage:
    """Rule 12: upper-cases the first letter that passes."""

    def __init__(self) -> None:
        self._done = False

    def feed(self, text: str) -> str:
        if self._done:
            return text
        if any(char.isalpha() for char in text):
            self._done = True
            return _capitalize_first_letter(text)
        return text

    def finish(self) -> str:
        return ""


class _StripStage:
    """Rule 13: drops leading whitespace, holds trailing whitespace until more text comes."""

    def __init__(self) -> None:
        self._started = False
        self._held = ""

    def feed(self, text: str) -> str:
        if not self._started:
            text = text.lstrip()
            if not text:
                return ""
            self._started = True
        text = self._held + text
        end = len(text.rstrip())
        self._held = text[end:]
        return text[:end]

    def finish(self) -> str:
        self._held = ""
        return ""


class OutputStream(Protocol):
    """What the turn loop needs from an output filter (cleaning or not)."""

    @property
    def text(self) -> str:
        """Everything emitted so far (``final.normalized_text`` once finished)."""
        ...

    def feed(self, raw: str) -> str:
        """Take a raw model delta; return the text to send now (possibly empty)."""
        ...

    def finish(self) -> str:
        """End of stream: return the held-back tail."""
        ...

    def cancel(self) -> None:
        """Abort: the held-back tail is dropped; later feeds return nothing."""
        ...


class StreamingCleaner:
    """Applies ``clean`` to a stream of raw deltas (see the module docstring)."""

    def __init__(self) -> None:
        self._stages: tuple[_Stage, ...] = (
            _FreestyleStage(),
            *(_RuleStage(rule) for rule in _RULES),
            _CapitalizeStage(),
            _StripStage(),
        )
        self._emitted: list[str] = []
        self._cancelled = False
        self._finished = False

    @property
    def text(self) -> str:
        return "".join(self._emitted)

    def feed(self, raw: str) -> str:
        if self._cancelled:
            return ""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        text = raw
        for stage in self._stages:
            text = stage.feed(text)
        self._emitted.append(text)
        return text

    def finish(self) -> str:
        if self._cancelled or self._finished:
            return ""
        self._finished = True
        text = ""
        for stage in self._stages:
            text = stage.feed(text) + stage.finish()
        self._emitted.append(text)
        return text

    def cancel(self) -> None:
        self._cancelled = True


class PassthroughStream:
    """``sanitize_output: false``: raw deltas are forwarded unchanged."""

    def __init__(self) -> None:
        self._emitted: list[str] = []
        self._closed = False

    @property
    def text(self) -> str:
        return "".join(self._emitted)

    def feed(self, raw: str) -> str:
        if self._closed:
            return ""
        self._emitted.append(raw)
        return raw

    def finish(self) -> str:
        self._closed = True
        return ""

    def cancel(self) -> None:
        self._closed = True


def output_stream(sanitize: bool) -> OutputStream:
    """The output filter of a turn: the cleaner, or a passthrough when sanitising is off."""
    return StreamingCleaner() if sanitize else PassthroughStream()
