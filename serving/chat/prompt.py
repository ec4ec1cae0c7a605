"""Prompt text and token ids for a chat request, with the model's own tokenizer.

- ``messages`` are rendered with the tokenizer's chat template; when a checkpoint has none (or
  it fails), ChatML is used, which is what most chat checkpoints expect.
- ``phrase_bias`` maps texts to a bias; every token id of each text gets it, the most negative
  value winning when ids repeat. Special tokens are never added while encoding the phrases, so
  BOS and friends are not biased by accident.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from serving.chat.request import ChatRequest


def chatml(messages: Sequence[Mapping[str, str]], *, add_generation_prompt: bool = True) -> str:
    """Standard ChatML, for checkpoints that ship no chat template."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")


class PromptBuilder:
    def __init__(self, tokenizer: Any, *, enable_thinking: bool = False) -> None:
        self.tokenizer = tokenizer
        self.enable_thinking = enable_thinking
        self._bias_cache = functools.lru_cache(maxsize=64)(self._phrase_bias_uncached)

    def render(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        add_generation_prompt: bool = True,
        template_kwargs: Mapping[str, Any] | None = None,
    ) -> str:
        kwargs = {"enable_thinking": self.enable_thinking, **(template_kwargs or {})}
        if getattr(self.tokenizer, "chat_template", None):
            try:
                text = self.tokenizer.apply_chat_template(
                    [dict(m) for m in messages],
                    tokenize=False,
                    add_generation_prompt=add_generation_prompt,
                    **kwargs,
                )
                return str(text)
            except (ValueError, RuntimeError, TypeError, KeyError):
                pass
        return chatml(messages, add_generation_prompt=add_generation_prompt)

    def build(self, request: ChatRequest) -> tuple[str, list[int]]:
        """(prompt text, prompt token ids) for a request."""
        if request.messages is not None:
            text = self.render(
                request.messages,
                add_generation_prompt=request.add_generation_prompt,
                template_kwargs=request.chat_template_kwargs,
            )
            # The template already carries any BOS the model wants.
            return text, list(self.tokenizer.encode(text, add_special_tokens=False))
        assert request.prompt is not None
        return request.prompt, list(self.tokenizer.encode(request.prompt, add_special_tokens=True))

    def special_token_ids(self, texts: Sequence[str]) -> set[int]:
        """Ids of the texts that are single special tokens of this vocabulary (e.g. <|im_end|>)."""
        special = set(getattr(self.tokenizer, "all_special_tokens", []) or [])
        special |= {str(t) for t in getattr(self.tokenizer, "added_tokens_decoder", {}).values()}
        found = set()
        for text in texts:
            if text in special:
                token_id = self.tokenizer.convert_tokens_to_ids(text)
                if isinstance(token_id, int) and token_id >= 0:
                    found.add(token_id)
        return found

    def count(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False))

    def phrase_logit_bias(self, phrases: Mapping[str, float]) -> dict[int, float]:
        return self._bias_cache(tuple(sorted(phrases.items())))

    def _phrase_bias_uncached(self, items: tuple[tuple[str, float], ...]) -> dict[int, float]:
        bias: dict[int, float] = {}
        for text, value in items:
            for token_id in self.tokenizer.encode(text, add_special_tokens=False):
                bias[token_id] = min(value, bias.get(token_id, value))
        return bias
