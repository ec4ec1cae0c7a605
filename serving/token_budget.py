"""Token counts and exact truncation with a model's tokenizer (served as the ``tokenizer`` model).

The bridge never loads a tokenizer; budgets in tokens (persona limit, utterance head, history
trimming) are computed here, inside Triton. Truncation slices the original text at token
boundaries (offset mapping), so the kept text is an exact substring of the input.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from common.deploy import DEPLOY_MODELS
from common.settings import Setting, SettingsError, Text, resolve
from serving.chat.config import CHAT_SETTINGS
from serving.screen_intent.classifier import SCREEN_INTENT_SETTINGS

TOKENIZER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TOKENIZER_MODEL",
        Text(),
        "auto",
        "auto: the chat tokenizer (the classifier's when DEPLOY_MODELS=tool), or a folder",
        parameter="tokenizer",
    ),
)


def tokenizer_folder(
    parameters: Mapping[str, str], environ: Mapping[str, str] = os.environ, *, model_name: str
) -> Path:
    found = resolve(TOKENIZER_SETTINGS, parameters, environ, model_name=model_name)
    choice = found["tokenizer"]
    if choice == "auto":
        mode = resolve((DEPLOY_MODELS,), {}, environ, model_name=model_name)[DEPLOY_MODELS.key]
        if mode == "tool":
            tool = resolve(SCREEN_INTENT_SETTINGS, {}, environ, model_name=model_name)
            choice = tool["model"]
        else:
            chat = resolve(CHAT_SETTINGS, {}, environ, model_name=model_name)
            choice = chat["tokenizer"] or chat["model"]
    folder = Path(choice).expanduser()
    if not folder.is_dir():
        raise SettingsError(
            f"model '{model_name}': tokenizer folder {folder} does not exist (set TOKENIZER_MODEL "
            "or CHAT_MODEL, or run scripts/setup.sh to prepare the embedded models)"
        )
    return folder


class TokenBudget:
    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer

    @classmethod
    def from_folder(cls, folder: Path) -> TokenBudget:
        from transformers import AutoTokenizer

        return cls(AutoTokenizer.from_pretrained(folder))

    def measure(self, text: str, max_tokens: int, keep: str) -> tuple[int, str]:
        """(token count of ``text``, text cut to ``max_tokens`` keeping the head or tail).

        ``max_tokens <= 0`` means count only (the text comes back unchanged).
        """
        encoded = self.tokenizer(
            text, add_special_tokens=False, return_offsets_mapping=True, return_attention_mask=False
        )
        ids = encoded["input_ids"]
        count = len(ids)
        if max_tokens <= 0 or count <= max_tokens:
            return count, text
        offsets = encoded["offset_mapping"]
        # Byte-level tokens can split one character; never keep part of a character's tokens.
        if keep == "tail":
            start = count - max_tokens
            while start < count and offsets[start][0] < offsets[start - 1][1]:
                start += 1
            return count, text[offsets[start][0] :] if start < count else ""
        stop = max_tokens
        while stop > 0 and offsets[stop][0] < offsets[stop - 1][1]:
            stop -= 1
        return count, text[: offsets[stop - 1][1]] if stop > 0 else ""
