"""The router's context: capture marks from the session's own decisions and from followups."""

from __future__ import annotations

from bridge.protocol.screen_context import CaptureMemory, router_context


def test_lines_the_router_said_yes_to_are_marked_captured() -> None:
    captures = CaptureMemory()
    captures.remember("Look at THIS  dress")
    context = router_context(["hi", "look at this dress", "so is it cute?"], captures, "ON:")
    assert context == [
        {"text": "hi", "captured": False},
        {"text": "look at this dress", "captured": True},
        {"text": "so is it cute?", "captured": False},
    ]


def test_a_screen_analysis_marks_the_line_before_it_and_is_left_out() -> None:
    lines = ["check my inbox", "ON THE SCREEN NOW: an email from Sam", "what should I reply?"]
    context = router_context(lines, CaptureMemory(), "ON THE SCREEN NOW:")
    assert context == [
        {"text": "check my inbox", "captured": True},
        {"text": "what should I reply?", "captured": False},
    ]


def test_analysis_first_and_blank_lines_do_not_crash() -> None:
    context = router_context(
        ["ON THE SCREEN NOW: x", "  ", "ok"], CaptureMemory(), "on the screen now:"
    )
    assert context == [{"text": "ok", "captured": False}]


def test_memory_is_bounded() -> None:
    captures = CaptureMemory(size=2)
    for text in ("a", "b", "c"):
        captures.remember(text)
    assert "a" not in captures and "b" in captures and "c" in captures
    assert 3 not in captures
