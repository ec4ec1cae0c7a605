"""The frozen bottom of the classifier's training: no dropout and no gradient below the first
trainable layer. A tiny randomly initialised BERT (no download)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from serving.screen_intent.training import freeze_bottom, train_mode  # noqa: E402


def tiny_model():
    torch.manual_seed(3)
    config = transformers.BertConfig(
        vocab_size=100,
        hidden_size=32,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=64,
        num_labels=2,
    )
    return transformers.BertForSequenceClassification(config)


def test_train_mode_leaves_the_frozen_part_without_dropout() -> None:
    model = tiny_model()
    train_mode(model, 2)
    assert not model.bert.embeddings.training
    assert [block.training for block in model.bert.encoder.layer] == [False, False, True, True]
    assert model.classifier.training and model.bert.pooler.training


def test_the_frozen_bottom_is_deterministic_and_gets_no_gradient() -> None:
    model = tiny_model()
    freeze_bottom(model, 2)
    train_mode(model, 2)
    ids = torch.tensor([[1, 5, 7, 9, 2], [1, 8, 3, 2, 0]])
    mask = (ids > 0).long()
    bottom = model.bert.encoder.layer[:2]

    def bottom_out():
        hidden = model.bert.embeddings(input_ids=ids)
        for block in bottom:
            hidden = block(hidden)
        return hidden

    assert torch.equal(bottom_out(), bottom_out())  # no dropout below the trainable layers
    loss = torch.nn.functional.cross_entropy(
        model(input_ids=ids, attention_mask=mask).logits, torch.tensor([1, 0])
    )
    loss.backward()
    for name, parameter in model.named_parameters():
        frozen = "embeddings" in name or ".layer.0." in name or ".layer.1." in name
        assert (parameter.grad is None) == frozen, name


def test_models_without_a_bert_layout_just_train() -> None:
    model = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2, 2))
    train_mode(model, 2)
    assert all(module.training for module in model.modules())
