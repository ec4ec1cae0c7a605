"""The sliding-window limiter of §10.1, driven by a fake monotonic clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.ratelimit import RateLimited, SlidingWindowLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_admits_up_to_the_limit_then_rejects_with_retry_in() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 10.0, clock)
    assert [limiter.attempt() for _ in range(3)] == [None, None, None]
    clock.advance(2.5)
    assert limiter.attempt() == RateLimited(retry_in=8)  # ceil(1000 + 10 - 1002.5)


def test_rejected_attempts_are_not_recorded() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock)
    assert limiter.attempt() is None
    for _ in range(5):
        clock.advance(1.0)
        assert isinstance(limiter.attempt(), RateLimited)
    clock.advance(5.0)  # exactly one window after the only admitted event
    assert limiter.attempt() is None


def test_slots_free_one_by_one() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 10.0, clock)
    assert limiter.attempt() is None  # t=0
    clock.advance(4.0)
    assert limiter.attempt() is None  # t=4
    clock.advance(5.0)
    assert limiter.attempt() == RateLimited(retry_in=1)  # t=9: oldest leaves at 10
    clock.advance(1.0)
    assert limiter.attempt() is None  # t=10: t=0 aged out (<= now - window)
    assert limiter.attempt() == RateLimited(retry_in=4)  # t=4 leaves at 14


@pytest.mark.parametrize(("elapsed", "retry_in"), [(0.0, 10), (9.9, 1), (9.999, 1), (2.1, 8)])
def test_retry_in_is_rounded_up_and_at_least_one(elapsed: float, retry_in: int) -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 10.0, clock)
    limiter.attempt()
    clock.advance(elapsed)
    assert limiter.attempt() == RateLimited(retry_in=retry_in)


@pytest.mark.parametrize(("limit", "window"), [(0, 10.0), (-1, 10.0), (5, 0.0), (5, -1.0)])
def test_limit_or_window_at_most_zero_disables(limit: int, window: float) -> None:
    limiter = SlidingWindowLimiter(limit, window, FakeClock())
    assert not limiter.enabled
    assert all(limiter.attempt() is None for _ in range(100))


def test_properties() -> None:
    limiter = SlidingWindowLimiter(4, 60.0, FakeClock())
    assert (limiter.limit, limiter.window_s, limiter.enabled) == (4, 60.0, True)


@given(
    st.integers(min_value=1, max_value=5),
    st.floats(min_value=0.5, max_value=20.0),
    st.lists(st.floats(min_value=0.0, max_value=5.0), max_size=60),
)
def test_never_more_than_limit_in_any_window(limit: int, window: float, gaps: list[float]) -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit, window, clock)
    admitted: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        result = limiter.attempt()
        if result is None:
            admitted.append(clock.now)
            assert sum(1 for t in admitted if t > clock.now - window) <= limit
        else:
            # Rejected only when the window really is full, and retry_in is honest.
            assert sum(1 for t in admitted if t > clock.now - window) == limit
            assert result.retry_in >= 1
            oldest = min(t for t in admitted if t > clock.now - window)
            assert oldest + window - clock.now <= result.retry_in
