"""The training's cheap dropout masks (serving.screen_intent.fast_dropout): the rate, the
scaling, the seeding, and that a model with them installed computes what the stock model
computes in eval mode (the real MiniLM base model, padded batches included)."""

from __future__ import annotations

import pytest
import torch

from serving.screen_intent import fast_dropout
from serving.screen_intent.features import encode_pairs
from serving.screen_intent.training import default_base_model_dir


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_the_mask_drops_entries_at_the_asked_rate(p: float) -> None:
    torch.manual_seed(0)
    mask = fast_dropout.keep_mask((1000, 999), p)
    assert mask.shape == (1000, 999) and mask.dtype == torch.bool
    assert abs(mask.float().mean().item() - (1 - p)) < 0.002
    # the four words of one draw are independent: every position of the draw keeps at the rate
    flat = mask.flatten()[: 4 * 200_000].view(-1, 4).float().mean(0)
    assert torch.all((flat - (1 - p)).abs() < 0.005)


def test_no_dropout_keeps_everything_and_bad_rates_are_refused() -> None:
    assert bool(fast_dropout.keep_mask((7, 3), 0.0).all())
    for p in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match="dropout probability"):
            fast_dropout.keep_mask((2,), p)


def test_kept_entries_are_scaled_and_dropped_ones_are_zero() -> None:
    torch.manual_seed(1)
    x = torch.full((400, 500), 2.0)
    y = fast_dropout.apply_dropout(x, 0.2)
    assert torch.unique(y).tolist() == [0.0, pytest.approx(2.5)]
    assert abs(y.mean().item() - 2.0) < 0.02
    assert fast_dropout.apply_dropout(x, 0.0) is x


def test_masks_follow_the_torch_seed() -> None:
    torch.manual_seed(5)
    first = fast_dropout.keep_mask((300, 300), 0.1)
    torch.manual_seed(5)
    again = fast_dropout.keep_mask((300, 300), 0.1)
    torch.manual_seed(6)
    other = fast_dropout.keep_mask((300, 300), 0.1)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_the_module_is_the_identity_in_eval_mode() -> None:
    module = fast_dropout.Dropout(0.3).eval()
    x = torch.randn(10, 10)
    assert torch.equal(module(x), x)
    assert not torch.equal(module.train()(x), x)


@pytest.fixture(scope="module")
def model_and_batch() -> tuple[object, dict[str, torch.Tensor]]:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = default_base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2).eval()
    batch = encode_pairs(
        tokenizer,
        [("", "look"), ("[them] what is this one", "and here is a much longer line of text")],
        64,
    )
    assert int(batch["attention_mask"].sum()) < batch["attention_mask"].numel()  # padded
    return model, batch


def test_installed_model_matches_the_stock_one_and_undo_restores_it(
    model_and_batch: tuple[object, dict[str, torch.Tensor]],
) -> None:
    model, batch = model_and_batch
    with torch.no_grad():
        stock = model(**batch).logits  # type: ignore[operator]
    undo = fast_dropout.install(model)
    try:
        assert model.config._attn_implementation == fast_dropout.ATTENTION_NAME  # type: ignore[attr-defined]
        modules = list(model.modules())  # type: ignore[attr-defined]
        assert not any(type(m) is torch.nn.Dropout for m in modules)
        assert sum(isinstance(m, fast_dropout.Dropout) for m in modules) == 20
        assert not any(m.training for m in modules if isinstance(m, fast_dropout.Dropout))
        with torch.no_grad():
            installed = model(**batch).logits  # type: ignore[operator]
        assert torch.allclose(installed, stock, atol=1e-5)

        model.train()  # type: ignore[attr-defined]
        torch.manual_seed(3)
        first = model(**batch).logits  # type: ignore[operator]
        torch.manual_seed(3)
        again = model(**batch).logits  # type: ignore[operator]
        assert torch.equal(first, again)
        assert not torch.allclose(first, stock, atol=1e-4)  # dropout is on
        first.sum().backward()
        grad = model.base_model.encoder.layer[-1].attention.self.query.weight.grad  # type: ignore[attr-defined]
        assert grad is not None and float(grad.abs().sum()) > 0
    finally:
        model.eval()  # type: ignore[attr-defined]
        model.zero_grad(set_to_none=True)  # type: ignore[attr-defined]
        undo()
    assert model.config._attn_implementation == "sdpa"  # type: ignore[attr-defined]
    assert sum(type(m) is torch.nn.Dropout for m in model.modules()) == 20  # type: ignore[attr-defined]
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, stock)  # type: ignore[operator]
