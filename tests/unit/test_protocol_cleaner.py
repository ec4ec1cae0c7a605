"""The output cleaner (§13): whole-text rules, streaming examples, and the streaming property."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bridge.protocol.cleaner import (
    PassthroughStream,
    StreamingCleaner,
    clean,
    output_stream,
)


def stream(chunks: list[str]) -> list[str]:
    """Feed chunks, then finish; return the non-empty pieces (one token frame each)."""
    cleaner = StreamingCleaner()
    pieces = [cleaner.feed(chunk) for chunk in chunks]
    pieces.append(cleaner.finish())
    assert cleaner.text == "".join(pieces)
    return [piece for piece in pieces if piece]


# §13.3, with the three reference quirks overridden by decision 3.
SPEC_EXAMPLES = [
    ("hello there!", "Hello there!"),
    ("Freestyle mode. that outfit is fire", "That outfit is fire"),
    ("freestyle mode: wow okay", "Wow okay"),
    ("Wait… what", "Wait...what"),
    ("Well.. maybe", "Well...maybe"),
    ("Sure... why not", "Sure... why not"),
    ("line one\nline two", "Line one line two"),
    ("line one\\nline two", "Line one line two"),
    ("Hello , world !", "Hello, world!"),
    ('You\\\'re \\"great\\"', "You're 'great'"),
    ("Ohhhh my god", "Ooh my god"),
    ("OOOOH nice", "Ooh nice"),
    ("That's funny 😂😂 honestly", "That's funny honestly"),
    ("nice :) really", "Nice really"),
    ("<b>bold</b> &amp; done", "Bold & done"),
    ("what? !", "What?!"),
    ("meet at 8pm", "Meet at 8pm"),
    ("at 10:30 then", "At 10:30 then"),
    ("see http://x.com", "See http://x.com"),
]


@pytest.mark.parametrize(("raw", "cleaned"), SPEC_EXAMPLES)
def test_spec_examples(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(("raw", "cleaned"), SPEC_EXAMPLES)
def test_spec_examples_streamed_character_by_character(raw: str, cleaned: str) -> None:
    assert "".join(stream(list(raw))) == cleaned


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("at 3:30 or 1:2", "At 3:30 or 1:2"),
        ("go to https://x.com/a", "Go to https://x.com/a"),
        ("x8P and 8Px and I got 8P", "X8P and 8Px and I got 8P"),
        ("(up to 8) in 8D audio", "(Up to 8) in 8D audio"),
        ("cool 8-) yes", "Cool yes"),
        ("a < b and c > d", "A < b and c > d"),
        ("I <3 you, x<3 and <30", "I you, x<3 and <30"),
        ("get_there T_T", "Get_there"),
        ("shrug ¯\\_(ツ)_/¯ ok", "Shrug ok"),
        ("freestyle modern art", "Freestyle modern art"),
        ("  FREESTYLE MODE.  :  hi", "Hi"),
        ("ok.... then..... done", "Ok... then... done"),
        ("oh ooh oooh ohh Ohh", "Oh ooh ooh ooh Ooh"),
        ("❤️ love 👨\u200d👩\u200d👧 fam", "Love fam"),
        ("AT&T &copy; &notit; &#65;&#x42; &amp", "AT&T © &notit; AB &amp"),
        ("<p>Hi</p><br/>there", "Hithere"),
        ("one\r\n\r\ntwo /n three", "One two three"),
        ("   ", ""),
        ("😂", ""),
    ],
)
def test_project_decisions(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


@pytest.mark.parametrize(
    "emoticon",
    [
        ":)",
        ":-)",
        ";)",
        ";-)",
        ":D",
        ":p",
        ":P",
        ":(",
        "=)",
        ":]",
        ":/",
        ":\\",
        ":o",
        ":O",
        ":^)",
        ":'(",
        "<3",
        ":|",
        ":-|",
        ":3",
        "^_^",
        "T_T",
        "t_t",
        "8-)",
        "8^D",
    ],
)
def test_standalone_emoticons_are_removed(emoticon: str) -> None:
    assert clean(f"ok {emoticon} then") == "Ok then"
    assert clean(f"ok {emoticon}") == "Ok"
    assert clean(f"ok x{emoticon}y") == f"Ok x{emoticon}y"


@pytest.mark.parametrize(
    ("chunks", "tokens"),
    [
        # §13.2 examples
        (["free", "style", " mode. ", "hey ", "there"], ["Hey", " there"]),
        (["hello", " wor", "ld  ", "/"], ["Hello", " wor", "ld", " /"]),
        (["Fr", "ench fries"], ["French fries"]),
        # The reference dropped characters here ("Hi :", "k"); now nothing is lost.
        (["Hi :", ")", " ok"], ["Hi", " ok"]),
    ],
)
def test_streaming_examples(chunks: list[str], tokens: list[str]) -> None:
    assert stream(chunks) == tokens


def test_plain_text_is_not_held_back() -> None:
    cleaner = StreamingCleaner()
    assert cleaner.feed("sure thing") == "Sure thing"
    assert cleaner.feed(", friend ") == ", friend"
    assert cleaner.feed("indeed") == " indeed"


def test_the_held_tail_is_short() -> None:
    cleaner = StreamingCleaner()
    emitted = cleaner.feed("x <a" + "b" * 80)
    assert emitted.startswith("X <ab")
    assert len(emitted) >= 80
    emitted = StreamingCleaner().feed("wow: " + "z" * 10)
    assert emitted == "Wow: " + "z" * 10


def test_finish_flushes_the_held_tail() -> None:
    cleaner = StreamingCleaner()
    assert cleaner.feed("see you :") == "See you"
    assert cleaner.finish() == " :"
    assert cleaner.text == "See you :"
    assert cleaner.finish() == ""


def test_cancel_drops_the_held_tail() -> None:
    cleaner = StreamingCleaner()
    assert cleaner.feed("ok ..") == "Ok"
    cleaner.cancel()
    assert cleaner.finish() == ""
    assert cleaner.feed("more") == ""
    assert cleaner.text == "Ok"


def test_feed_after_finish_is_a_bug() -> None:
    cleaner = StreamingCleaner()
    cleaner.finish()
    with pytest.raises(RuntimeError):
        cleaner.feed("late")


def test_an_unfinished_prefix_is_flushed_as_text() -> None:
    assert stream(["Free"]) == ["Free"]
    assert stream(["freestyle mode"]) == []


def test_passthrough_when_sanitising_is_off() -> None:
    raw = output_stream(sanitize=False)
    assert isinstance(raw, PassthroughStream)
    assert raw.feed("freestyle mode: :) ") == "freestyle mode: :) "
    assert raw.feed("x") == "x"
    assert raw.finish() == ""
    assert raw.text == "freestyle mode: :) x"
    assert raw.feed("late") == ""
    assert isinstance(output_stream(sanitize=True), StreamingCleaner)


FRAGMENTS = [
    "😂",
    "❤",
    "\ufe0f",
    "\u200d",
    "👍🏽",
    ":)",
    ":-)",
    ";)",
    ":D",
    ":P",
    "8-)",
    "8P",
    "8pm",
    "10:30",
    "1:2",
    "http://x.com",
    "https://",
    ":'(",
    "<3",
    ":|",
    ":3",
    "^_^",
    "T_T",
    "¯\\_(ツ)_/¯",
    "..",
    "...",
    "....",
    "…",
    ". ",
    "\n",
    "\r\n",
    "\\n",
    "/n",
    "\\",
    "/",
    '\\"',
    "\\'",
    "<b>",
    "</b>",
    "<a href='x'>",
    "<br/>",
    "<",
    ">",
    "&amp;",
    "&lt;",
    "&#65;",
    "&#x42;",
    "&",
    "&am",
    "&#",
    "freestyle mode",
    "Freestyle mode.",
    "freestyle mode:",
    "FREESTYLE",
    "free",
    "mode",
    "ohhh",
    "Ooh",
    "oh",
    "OOOH",
    "o",
    "h",
    "O",
    "H",
    " ",
    "  ",
    "\t",
    "'",
    ",",
    "?",
    "!",
    ".",
    ":",
    ";",
    "=",
    "8",
    "t",
    "_",
    "^",
    "-",
    "a",
    "B",
    "é",
    "3",
    "word",
    "Hello",
    " there",
]

texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=24).map(
    "".join
)


@settings(max_examples=400)
@given(texts, st.data())
@example("Hi :) ok", None)
def test_streaming_equals_whole_text_cleaning_for_any_chunking(
    raw: str, data: st.DataObject | None
) -> None:
    if data is None:
        cuts = list(range(len(raw) + 1))
    else:
        cuts = data.draw(st.lists(st.integers(0, len(raw)), max_size=12).map(sorted))
    bounds = [0, *cuts, len(raw)]
    chunks = [raw[start:end] for start, end in itertools.pairwise(bounds)]
    cleaner = StreamingCleaner()
    emitted = [cleaner.feed(chunk) for chunk in chunks]
    emitted.append(cleaner.finish())
    assert "".join(emitted) == clean(raw)
    assert cleaner.text == clean(raw)


@given(texts)
def test_character_by_character_equals_whole_text(raw: str) -> None:
    assert "".join(stream(list(raw))) == clean(raw)


@given(st.text())
def test_cleaned_text_is_stripped(raw: str) -> None:
    cleaned = clean(raw)
    assert cleaned == cleaned.strip()


@given(st.text(st.characters(blacklist_characters="&")))
def test_without_entities_no_emoji_or_unicode_ellipsis_survives(raw: str) -> None:
    # (An entity such as &#128512; may legitimately decode to an emoji after rule 9.)
    cleaned = clean(raw)
    assert not any("\U0001f600" <= ch <= "\U0001f64f" for ch in cleaned)
    assert "…" not in cleaned
