"""The pure parts of the classifier's training loop (no torch): which rows an epoch sees and
how they are batched, and the command's argument checks."""

from __future__ import annotations

import random
from collections import Counter

import pytest

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


def test_weight_average_follows_the_weights_and_swaps_back() -> None:
    import pytest
    import torch

    from serving.screen_intent.training import WeightAverage

    weight = torch.nn.Parameter(torch.zeros(3))
    average = WeightAverage([weight], 0.9)
    with torch.no_grad():
        weight.fill_(1.0)
    average.update()  # first update: decay min(0.9, 2/11), so the average moves 9/11 of the way
    assert torch.allclose(average.shadow[0], torch.full((3,), 9 / 11))
    for _ in range(200):
        average.update()
    assert torch.allclose(average.shadow[0], torch.ones(3), atol=1e-6)
    with torch.no_grad():
        weight.fill_(5.0)
    average.update()  # now at the full decay: 0.9 * 1 + 0.1 * 5
    assert torch.allclose(average.shadow[0], torch.full((3,), 1.4))
    average.swap()
    assert torch.allclose(weight.detach(), torch.full((3,), 1.4))
    average.swap()
    assert torch.allclose(weight.detach(), torch.full((3,), 5.0))
    for bad in (0.0, 1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="EMA decay"):
            WeightAverage([weight], bad)


@pytest.mark.parametrize("value", ["0", "-4", "big"])
def test_the_training_command_refuses_a_bad_batch_size(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from serving.screen_intent.training import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--output-dir", "/nonexistent/never-written", "--batch-size", value])
    assert exit_info.value.code == 2
    assert "expected a whole number >= 1" in capsys.readouterr().err
