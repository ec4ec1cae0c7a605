"""The parts of the classifier's training loop: which rows an epoch sees and how they are
batched, the weight average, one training step on the real base model, and the command's
argument checks."""

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


def test_train_step_learns_the_batch_and_leaves_no_gradients() -> None:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from serving.screen_intent.features import encode_pairs
    from serving.screen_intent.training import default_base_model_dir, freeze_bottom, train_step

    base = default_base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
    frozen = freeze_bottom(model, 2)
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    enc = encode_pairs(tokenizer, [("", "look at this"), ("", "tell me a joke")], 32)
    losses = [train_step(model, optimizer, enc, [1, 0], "fp32") for _ in range(6)]
    assert all(isinstance(loss, float) for loss in losses)
    assert losses[-1] < losses[0] * 0.5, losses  # it does step the weights, downhill
    assert all(p.grad is None for p in trainable)  # zeroed for the next batch
    assert all(p.grad is None for p in frozen)  # nothing flows into the frozen layers
