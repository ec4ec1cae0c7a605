"""Stop strings with a hold-back only where a stop string may be starting."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from serving.chat.stops import StopStrings

CHAT_STOPS = StopStrings(
    ["<|im_end|>", "|im_end|>", "<|start_header_id|>", "[EOS]", "<end_of_turn>"]
)


def test_ordinary_text_is_never_held_back() -> None:
    for text in ("I", "I'm", "I'm so glad you asked.", "Hello there!"):
        assert CHAT_STOPS.scan(text).safe == len(text)


def test_only_a_possible_stop_prefix_is_held() -> None:
    assert CHAT_STOPS.scan("Sure <").safe == len("Sure ")
    assert CHAT_STOPS.scan("Sure <|im").safe == len("Sure ")
    assert CHAT_STOPS.scan("list [E").safe == len("list ")
    assert CHAT_STOPS.scan("a | b").safe == len("a | b")  # "| b" cannot start a stop string


def test_complete_stop_string_is_found_at_its_start() -> None:
    scan = CHAT_STOPS.scan("Bye!<|im_end|>junk")
    assert (scan.stop_at, scan.stop) == (4, "<|im_end|>")
    scan = CHAT_STOPS.scan("x |im_end|> y <|im_end|>")
    assert (scan.stop_at, scan.stop) == (2, "|im_end|>")


def test_incremental_search_finds_a_stop_split_across_scans() -> None:
    first = CHAT_STOPS.scan("Bye <|im_")
    assert first.stop_at is None and first.safe == 4
    second = CHAT_STOPS.scan("Bye <|im_end|>", searched=len("Bye <|im_"))
    assert second.stop_at == 4


def test_no_stops() -> None:
    assert not StopStrings([])
    assert StopStrings(["", ""]).scan("abc").safe == 3


@given(st.text(alphabet="ab<|>[EOS]_imend ", max_size=40), st.lists(st.integers(0, 40), max_size=6))
def test_streaming_scans_agree_with_a_whole_scan(text: str, cuts: list[int]) -> None:
    """Emitting text[:safe] as it grows never emits anything past the first stop string."""
    whole = CHAT_STOPS.scan(text)
    limit = whole.stop_at if whole.stop_at is not None else len(text)
    searched = 0
    for cut in [*sorted(set(cuts)), len(text)]:
        prefix = text[:cut]
        scan = CHAT_STOPS.scan(prefix, searched)
        searched = len(prefix)
        emitted = scan.stop_at if scan.stop_at is not None else scan.safe
        assert emitted <= limit
