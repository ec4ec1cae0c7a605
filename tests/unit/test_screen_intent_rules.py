"""The coded no-1 / no-2 vetoes: what they catch, what they must leave to the model, and that
they never fire on a training row labelled "yes" (the rows our writers labelled by the policy).
The lines below are written for this test; none is from the evaluation sets."""

from __future__ import annotations

from collections import Counter

import pytest

from serving.screen_intent.data.build_dataset import ensure_built
from serving.screen_intent.rules import MAX_CHARS, NO1_PATTERNS, policy_veto
from serving.screen_intent.training import load_examples


@pytest.mark.parametrize(
    "text",
    [
        "take three screenshots of this page",
        "can u grab me like 2 screenshots",
        "I need a few screen caps of the settings",
        "gimme a couple more screenshots",
        "screenshot the chart every ten seconds",
        "take a screenshot every time the price drops",
        "check my screen every 5 minutes",
        "keep screenshotting while I scroll",
        "constantly watch my screen pls",
        "record my screen while I play",
        "can you screen record this",
        "take a screenshot now and then two more later",
        "snap this and another one after lunch",
        "screenshot it twice",
        "take a screenshot of my desktop and my phone screen",
        "capture my ipad n my laptop",
        "grab a screenshot of both monitors",
        "screenshot all my tabs",
        "can you capture each tab for me",
        "take screenshots of all the receipts",
    ],
)
def test_counts_other_than_one_are_vetoed(text: str) -> None:
    assert policy_veto(text) == "no-1"


@pytest.mark.parametrize(
    "text",
    [
        "don't look yet",
        "hang on, don't look, I'm typing my password",
        "please do not take a screenshot of this",
        "DONT SCREENSHOT THIS",
        "wait dont peek",
        "no need to look, I'll read it out",
        "ok stop looking now",
        "skip the screenshot this time",
        "no screenshots please",
        "hold off on the screenshot",
        "wait before you look, it's still loading",
        "I don't want you to see my screen right now",
        "you don't have to check, it's fine",
        "never mind, don't grab it",
        "wait don\u2019t look yet",  # a typographic apostrophe, as phones type it
    ],
)
def test_negated_looks_are_vetoed(text: str) -> None:
    assert policy_veto(text) == "no-2"


@pytest.mark.parametrize(
    "text",
    [
        # requests and pointing, one capture
        "take a screenshot",
        "grab one screenshot for me",
        "take one screenshot of all the squares on the board",
        "can you take a single screenshot of both columns",
        "look at this",
        "wait till you see this",
        "wait until you look at this lol",
        "why don't you take a look",
        "don't you love these?",
        "don't look at the price, look at the colour",
        "no don't screenshot the left one, screenshot this one",
        # "don't" as "appear", and counts of things on the screen
        "these don't look right",
        "hmm that doesn't look like my order",
        "why do I have so many screenshots in my gallery",
        "look at all these comments",
        "check this, it refreshes every minute",
        "check this out, every tab crashed",
        "look, I've been charged twice",
        "should I take this one and two more?",
        "there are three screenshots in this thread, which one is the real receipt",
        "I don't see the checkout button",
        "stop, look at this",
        # other rules: the model's to decide
        "I took two screenshots yesterday",
        "take a selfie",
        "",
    ],
)
def test_lines_left_to_the_model(text: str) -> None:
    assert policy_veto(text) is None


@pytest.mark.parametrize(
    "text",
    [
        "screenshot " * 20_000,
        "take a " * 20_000,
        "screen shot my phone and " * 10_000,
        "don't " * 30_000 + "look",
        "x" * 500_000,
    ],
)
def test_long_or_repetitive_lines_stay_cheap(text: str) -> None:
    """Unbounded gaps made "screenshot " * 5,000 take 24 s (backtracking); now the gaps are
    bounded and only the first MAX_CHARS are read. Counted in regex work, not timed: the same
    answer as for the line's first MAX_CHARS characters."""
    line = " ".join(text.split())[:MAX_CHARS]
    assert policy_veto(text) == policy_veto(line)
    assert all("*?" not in p.pattern for p in NO1_PATTERNS), "an unbounded lazy gap is back"


@pytest.fixture(scope="module")
def training_rows() -> list[tuple[str, int, str]]:
    return [(e.text, e.label, e.rule) for e in load_examples(ensure_built())]


def test_vetoes_never_fire_on_a_training_row_labelled_yes(
    training_rows: list[tuple[str, int, str]],
) -> None:
    fired = [(text, rule) for text, label, rule in training_rows if label and policy_veto(text)]
    assert fired == []


def test_vetoes_cover_most_count_and_negation_rows(
    training_rows: list[tuple[str, int, str]],
) -> None:
    """They are meant to decide the plain forms of their rules, not a handful of lines."""
    total = Counter(rule for _, _, rule in training_rows)
    caught = Counter(
        rule for text, _, rule in training_rows if rule in ("no-1", "no-2") and policy_veto(text)
    )
    assert caught["no-1"] / total["no-1"] > 0.5
    assert caught["no-2"] / total["no-2"] > 0.5
