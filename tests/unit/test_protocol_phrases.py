"""The tool phrase filter (§12.1) and the toolcall mapping (§12.4)."""

from __future__ import annotations

import json

import pytest

from bridge.protocol.frames import ToolCall
from bridge.protocol.personalities import PersonalityTable
from bridge.protocol.phrases import (
    NO_TOOL,
    START_FREESTYLE,
    STOP_FREESTYLE,
    TAKE_SCREENSHOT,
    match_phrase,
    strip_code_fences,
    switch_gender,
    switch_personality,
    toolcall_from_text,
)

# The test map of the reference clients.
TABLE = PersonalityTable(
    (
        ("friendly", ("generic", "normal")),
        ("flirty", ("horny", "sexy", "turned on")),
        ("religious", ()),
        ("delulu", ()),
        ("savage", ("no cap",)),
        ("anna", ()),
    )
)


def test_result_texts_are_exact() -> None:
    assert START_FREESTYLE == '[{"name": "start_freestyle"}]'
    assert STOP_FREESTYLE == '[{"name": "stop_freestyle"}]'
    assert TAKE_SCREENSHOT == '[{"name": "take_screenshot"}]'
    assert NO_TOOL == "[]"
    assert switch_gender("male") == '[{"name": "switch_gender", "param": "male"}]'
    assert switch_personality("flirty") == ('[{"name": "switch_personality", "param": "flirty"}]')


@pytest.mark.parametrize(
    ("utterance", "expected"),
    [
        # §12.1 examples
        ("start frestile bro", START_FREESTYLE),
        ("change to anna!", switch_gender("female")),
        ("be more delulu", switch_personality("delulu")),
        ("be more horny", switch_personality("flirty")),
        ("take two screenshots", NO_TOOL),
        ("lok at this", TAKE_SCREENSHOT),
        ("look at this — what do you think?", None),
    ],
)
def test_spec_examples(utterance: str, expected: str | None) -> None:
    assert match_phrase(utterance, TABLE) == expected


@pytest.mark.parametrize(
    "utterance",
    [
        "start freestyle",
        "Start Freestyle!!",
        "start freeestyl now",
        "can you start freestyle?",
        "please start freestyle",
        "please start freestyle bro",
        "mind starting freestyle",
        "mind starting freestyle please",
        "just start freestyle",
        "just start freestyle already!",
        "  START   FREESTYLE.  ",
    ],
)
def test_freestyle_start(utterance: str) -> None:
    assert match_phrase(utterance) == START_FREESTYLE


@pytest.mark.parametrize(
    "utterance",
    [
        "stop freestyle",
        "stop freestyle now",
        "stopping freestile",
        "can you stop freestyle?",
        "please stop freestyle",
        "please stop freestyle bro",
        "mind stop freestyle",
        "mind stopping freestyle",
        "mind stopping freestyle please",
        "just stop freestyle",
        "just stop freestyle already",
    ],
)
def test_freestyle_stop(utterance: str) -> None:
    assert match_phrase(utterance) == STOP_FREESTYLE


@pytest.mark.parametrize(
    "utterance",
    [
        "switch to guy",
        "switch to gu",
        "change to him",
        "change to male",
        "change to mal",
        "switch to hunk",
        "switch to dud",
        "switch to boy",
        "change to marc",
        "switch to marck.",
    ],
)
def test_gender_male(utterance: str) -> None:
    assert match_phrase(utterance) == switch_gender("male")


@pytest.mark.parametrize(
    "utterance",
    [
        "switch to gal",
        "switch to ga",
        "change to girl",
        "change to gir",
        "switch to female",
        "switch to femme",
        "change to ana",
        "switch to annan?",
    ],
)
def test_gender_female(utterance: str) -> None:
    assert match_phrase(utterance) == switch_gender("female")


@pytest.mark.parametrize(
    ("utterance", "name"),
    [
        ("be flirty", "flirty"),
        ("bee flirty please", "flirty"),
        ("be more sexy", "flirty"),
        ("be more turned on", "flirty"),
        ("be more turned on bro", "flirty"),
        ("can you be more savage?", "savage"),
        ("can you be more no cap please", "savage"),
        ("can you be religious", "religious"),
        ("can you bee normal today?", "friendly"),
        ("BE MORE DELULU!!", "delulu"),
    ],
)
def test_personality(utterance: str, name: str) -> None:
    assert match_phrase(utterance, TABLE) == switch_personality(name)


def test_personality_rule_needs_a_table() -> None:
    assert match_phrase("be flirty") is None
    assert match_phrase("be flirty", PersonalityTable(())) is None
    assert match_phrase("be grumpy", TABLE) is None


def test_gender_rule_comes_before_the_personality_rule() -> None:
    # "anna" is a personality in the table, but "switch to anna" is a gender switch.
    assert match_phrase("switch to anna", TABLE) == switch_gender("female")
    assert match_phrase("be anna", TABLE) == switch_personality("anna")


@pytest.mark.parametrize(
    "utterance",
    [
        "look twice",
        "look twice at this",
        "look thrice!",
        "look multiple times",
        "check twice",
        "check thrice at this",
        "check multiple times?",
    ],
)
def test_screenshot_rejects(utterance: str) -> None:
    assert match_phrase(utterance) == NO_TOOL


@pytest.mark.parametrize(
    ("utterance", "expected"),
    [
        ("take one screenshot", TAKE_SCREENSHOT),
        ("take 1 screenshot", TAKE_SCREENSHOT),
        ("take once screenshot", TAKE_SCREENSHOT),
        ("Take A Screenshot!", TAKE_SCREENSHOT),
        ("take 2 screenshots", NO_TOOL),
        ("take many screenshots", NO_TOOL),
    ],
)
def test_take_n_screenshots(utterance: str, expected: str) -> None:
    assert match_phrase(utterance) == expected


@pytest.mark.parametrize(
    "utterance",
    [
        "take screenshot",
        "take screenshots",
        "screenshot this",
        "sceenshot this",
        "lok at this",
        "lock at this",
        "tkae a look",
        "teak a look?",
    ],
)
def test_screenshot_triggers(utterance: str) -> None:
    assert match_phrase(utterance) == TAKE_SCREENSHOT


@pytest.mark.parametrize(
    "utterance",
    [
        "",
        "hello",
        "look at this",
        "start freestyle now please",
        "take a look",
        "please take a screenshot",
        "switch to anna now",
        "be more flirty and fun",
    ],
)
def test_no_match(utterance: str) -> None:
    assert match_phrase(utterance, TABLE) is None


# --------------------------------------------------------------------------------------------
# toolcall mapping
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "frame"),
    [
        ("[]", ToolCall("no", [])),
        ('[{"name": "take_screenshot"}]', ToolCall("yes", [{"name": "take_screenshot"}])),
        (
            '[{"name": "switch_gender", "param": "male"}]',
            ToolCall("yes", [{"name": "switch_gender", "param": "male"}]),
        ),
        (
            '```json\n[{"name": "start_freestyle"}]\n```',
            ToolCall("yes", [{"name": "start_freestyle"}]),
        ),
        ("```\n[]\n```", ToolCall("no", [])),
        ("not json", ToolCall("no", "not json")),
        ("```\nnot json\n```", ToolCall("no", "not json")),
        ('{"name": "take_screenshot"}', ToolCall("no", None)),
        ("42", ToolCall("no", None)),
        ("NaN", ToolCall("no", "NaN")),
        ("", ToolCall("no", None)),
        ("   ", ToolCall("no", None)),
        (None, ToolCall("no", None)),
        ("``````", ToolCall("no", None)),
    ],
)
def test_toolcall_mapping(text: str | None, frame: ToolCall) -> None:
    assert toolcall_from_text(text) == frame


def test_phrase_results_map_to_the_expected_frames() -> None:
    assert toolcall_from_text(match_phrase("take two screenshots")).to_json() == (
        '{"type": "toolcall", "status": "no", "raw": []}'
    )
    frame = toolcall_from_text(match_phrase("be more horny", TABLE))
    assert json.loads(frame.to_json()) == {
        "type": "toolcall",
        "status": "yes",
        "raw": [{"name": "switch_personality", "param": "flirty"}],
    }


def test_strip_code_fences() -> None:
    assert strip_code_fences("```json\n[1]\n```") == "[1]"
    assert strip_code_fences("  ```python [1]```  ") == "[1]"
    assert strip_code_fences("[1]") == "[1]"
