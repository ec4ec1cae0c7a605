"""The classifier's language filter: confident non-English vetoes a yes; slang passes."""

from __future__ import annotations

import pytest

from serving.screen_intent.classifier import EnglishFilter

pytest.importorskip("lingua")


@pytest.fixture(scope="module")
def english() -> EnglishFilter:
    return EnglishFilter()


@pytest.mark.parametrize(
    "text",
    [
        "what do you think of this outfit?",
        "rate my fit",
        "lok at this",
        "ngl this slaps?",
        "yo rate this fit fr",
        "this?",
        "is this email ok to send?",
        "chek dis",
    ],
)
def test_english_and_slang_pass(english: EnglishFilter, text: str) -> None:
    assert english.is_english(text)


@pytest.mark.parametrize(
    "text",
    [
        "qué opinas de esto",
        "was denkst du darüber",
        "regarde ça",
        "kijk hier eens naar",
        "olha isso aqui",
        "guarda questo",
    ],
)
def test_other_languages_are_vetoed(english: EnglishFilter, text: str) -> None:
    assert not english.is_english(text)
