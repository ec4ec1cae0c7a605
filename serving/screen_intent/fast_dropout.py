"""Dropout with cheap masks, for fine-tuning the classifier on CPUs (training only).

On 2 CPU cores, ``torch.nn.functional.dropout`` spent a fifth of every training step drawing
its Bernoulli masks (one Mersenne-Twister draw per element, ~9 ns each; 20 masks a step: the
embeddings, three per encoder layer, the classifier). Here one 64-bit draw makes four masks
entries: the draw is viewed as four 16-bit words and each keeps its low 15 bits, so an entry is
dropped with probability ``round(p * 2**15) / 2**15`` (0.1 -> 0.100006). Same rule as
``nn.Dropout`` otherwise: kept entries are scaled by ``1 / (1 - p)``, nothing happens in eval
mode, and the draws come from torch's default generator (seeded runs stay reproducible).

``install(model)`` puts it into a transformers BERT-style model: every ``nn.Dropout`` module is
replaced, and the attention runs through ``attention`` (registered as ``ATTENTION_NAME``), which
is the eager attention with this dropout on the attention probabilities (SDPA draws its own
masks). It returns the function that puts the model back as it was, which the caller must run
before saving, so that the saved model uses the stock modules and attention.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch

ATTENTION_NAME = "yap_fast_dropout"
_WORD_BITS = 15
_WORD_MASK = (1 << _WORD_BITS) - 1


def keep_mask(shape: torch.Size | tuple[int, ...], p: float) -> torch.Tensor:
    """Boolean mask of ``shape``, each entry False (dropped) with probability ~``p``."""
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    count = math.prod(int(size) for size in shape)
    draws = torch.empty((count + 3) // 4, dtype=torch.int64).random_()
    words = draws.view(torch.int16)[:count]
    return ((words & _WORD_MASK) >= round(p * (1 << _WORD_BITS))).view(shape)


def apply_dropout(x: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted dropout of ``x`` (training mode): zero entries with probability ``p``, scale
    the others by ``1 / (1 - p)``."""
    if p == 0.0:
        return x
    return x * (keep_mask(x.shape, p).to(x.dtype) * (1.0 / (1.0 - p)))


class Dropout(torch.nn.Module):
    """``nn.Dropout`` with the masks of ``keep_mask``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = float(p)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return apply_dropout(x, self.p) if self.training else x

    def extra_repr(self) -> str:
        return f"p={self.p}"


def attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **_: Any,
) -> tuple[torch.Tensor, None]:
    """Scaled dot-product attention (transformers' attention-function signature), with this
    module's dropout on the probabilities. ``attention_mask``: boolean (True = attend) or
    additive."""
    if scaling is None:
        scaling = query.size(-1) ** -0.5
    scores = torch.matmul(query, key.transpose(2, 3)) * scaling
    if attention_mask is not None:
        if attention_mask.dtype == torch.bool:
            scores = scores.masked_fill(~attention_mask, torch.finfo(scores.dtype).min)
        else:
            scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    if dropout and module.training:
        probs = apply_dropout(probs, dropout)
    return torch.matmul(probs, value).transpose(1, 2).contiguous(), None


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, AttentionMaskInterface

    AttentionInterface.register(ATTENTION_NAME, attention)
    # the masks SDPA gets (boolean, True = attend; None when nothing is padded)
    AttentionMaskInterface.register(ATTENTION_NAME, ALL_MASK_ATTENTION_FUNCTIONS["sdpa"])


def install(model: Any) -> Callable[[], None]:
    """Swap ``model``'s dropout modules and attention for this module's; returns the undo."""
    _register()
    swapped: list[tuple[torch.nn.Module, str, torch.nn.Module]] = []
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Dropout:
                setattr(parent, name, Dropout(child.p).train(child.training))
                swapped.append((parent, name, child))
    previous = model.config._attn_implementation
    model.set_attn_implementation(ATTENTION_NAME)

    def undo() -> None:
        for parent, name, child in swapped:
            setattr(parent, name, child)
        model.set_attn_implementation(previous)

    return undo
