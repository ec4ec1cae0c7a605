"""The pure parts of the classifier's training loop (no torch): which rows an epoch sees and
how they are batched."""

from __future__ import annotations

import random
from collections import Counter

from serving.screen_intent.training import epoch_rows, length_batches

KINDS = ["handwritten"] * 10 + ["pair"] * 8 + ["single"] * 5


def test_without_shares_every_epoch_sees_every_row() -> None:
    for epoch in range(3):
        assert epoch_rows(KINDS, {}, epoch, 0) == list(range(len(KINDS)))


def test_a_share_moves_its_window_so_the_epochs_cover_the_kind() -> None:
    share = {"pair": 0.5, "single": 0.0}
    first, second = (epoch_rows(KINDS, share, epoch, 7) for epoch in range(2))
    for rows in (first, second):
        kinds = Counter(KINDS[i] for i in rows)
        assert kinds == {"handwritten": 10, "pair": 4}
    pairs = [i for i in first + second if KINDS[i] == "pair"]
    assert sorted(pairs) == list(range(10, 18))  # two halves: every pair row once
    assert epoch_rows(KINDS, share, 0, 7) == first  # seeded


def test_length_batches_cover_the_chosen_rows_once() -> None:
    lengths = [random.Random(i).randint(5, 90) for i in range(len(KINDS))]
    rows = epoch_rows(KINDS, {"handwritten": 0.3}, 1, 0)
    batches = length_batches(lengths, 4, random.Random(0), rows=rows)
    assert sorted(i for batch in batches for i in batch) == rows
    assert all(1 <= len(batch) <= 4 for batch in batches)
    everything = length_batches(lengths, 4, random.Random(0))
    assert sorted(i for batch in everything for i in batch) == list(range(len(KINDS)))
