"""How a Yap chat turn generates: stop strings, the default phrase bias, warm-up requests (§11.3).

Pure constants and builders shared by the bridge and the ``turn_prompt`` model of the
``chat_turn`` ensemble, so both generate the same way.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Stop strings of a chat turn (INFERENCE_STOP): end-of-turn markers of common chat templates.
INFERENCE_STOP: tuple[str, ...] = (
    "<|im_end|>",
    "|im_end|>",
    "<|assistant|>",
    "<|user|>",
    "<|end|>",
    "<end_of_turn>",
    "<start_of_turn>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|im_user|>",
    "<|im_system|>",
    "[EOS]",
    "[EOT]",
    "[SYSTEM_PROMPT]",
    "[/SYSTEM_PROMPT]",
)
WARM_STOP: tuple[str, ...] = ("<|end|>", "</s>")
WARM_PRIORITY, CHAT_PRIORITY = -1, 0

# Default phrase bias: every token of each phrase gets -100 in the chat model (token level, so
# common tokens of these phrases are effectively banned, as in the reference).
DEFAULT_PHRASE_BIAS: dict[str, float] = {
    phrase: -100.0
    for phrase in (
        "*winks*",
        "*winks*.",
        " *winks*.",
        "*smirks*",
        "*giggles*",
        "*purrs*",
        "*blushes*",
        ":)",
        ";)",
        " ;)",
        " ;) ",
        ":D",
        ":(",
        ":P",
        "Oh honey",
        "Oh, honey",
        "Oh honey...",
        "Well honey",
        "Well honey,",
        "Well, well",
        "Well well",
        "Well, well, well",
        "Well, well!",
        "what's really on your mind?",
        "Now let's talk about",
        "~",
        " - ",
        "-",
    )
}


def load_phrase_bias(path: str | None) -> dict[str, float]:
    """``CHAT_LOGIT_BIAS_FILE``: a non-empty JSON object {text: bias} replaces the default map."""
    if not path:
        return dict(DEFAULT_PHRASE_BIAS)
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(
            f"CHAT_LOGIT_BIAS_FILE={path}: cannot read a JSON object ({exc})"
        ) from None
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"CHAT_LOGIT_BIAS_FILE={path}: expected a non-empty JSON object")
    bias: dict[str, float] = {}
    for text, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"CHAT_LOGIT_BIAS_FILE={path}: bias for {text!r} must be a number")
        bias[str(text)] = float(value)
    return bias


def chat_sampling(
    overrides: Mapping[str, Any],
    *,
    max_tokens: int,
    phrase_bias: Mapping[str, float],
    priority: int = CHAT_PRIORITY,
) -> dict[str, Any]:
    """``sampling_parameters`` of a chat turn: the sampling values, stop strings, bias."""
    sampling: dict[str, Any] = {
        **dict(overrides),
        "max_tokens": max_tokens,
        "stop": list(INFERENCE_STOP),
        "priority": priority,
        # The bridge aborts explicitly (abort_request_id) on cancel, barge-in and disconnect,
        # so the chat model need not poll: each poll costs every stream some latency.
        "cancel_poll": False,
    }
    if phrase_bias:
        sampling["phrase_bias"] = dict(phrase_bias)
    return sampling


def warm_sampling() -> dict[str, Any]:
    """A 1-token greedy request at warm priority: fills the prefix cache, nothing else."""
    return {"max_tokens": 1, "temperature": 0.0, "stop": list(WARM_STOP), "priority": WARM_PRIORITY}
