"""How a Yap chat turn generates: budgets, sampling defaults and ranges (§14), stop strings, the
default phrase bias, warm-up requests (§11.3).

The settings here are declared once and resolved by both the bridge and the ``turn_prompt`` model
of the ``chat_turn`` ensemble, so both generate the same way from the same environment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.settings import Float, Int, Setting, Text

CHAT_MAX_LEN = Setting(
    "CHAT_MAX_LEN",
    Int(minimum=64),
    5025,
    "Chat engine `max_model_len`: tokens per sequence (1650 persona + 3000 history + 350 user "
    "+ 25).",
)
CHAT_MAX_OUT = Setting("CHAT_MAX_OUT", Int(minimum=1), 150, "`max_tokens` of each chat generation.")
CHAT_LOGIT_BIAS_FILE = Setting(
    "CHAT_LOGIT_BIAS_FILE",
    Text(),
    None,
    "JSON object `{text: bias}` replacing the default phrase-bias map (sent with every chat "
    "request; the chat model turns each phrase into token ids).",
)


@dataclass(frozen=True, slots=True)
class SamplingRule:
    """A §14 sampling key: its type, server default and accepted inclusive range."""

    key: str
    kind: type[int] | type[float]
    default: float
    minimum: float
    maximum: float

    def settings(self) -> tuple[Setting, Setting, Setting]:
        """``CHAT_<KEY>``, ``CHAT_<KEY>_MIN``, ``CHAT_<KEY>_MAX``."""
        name = f"CHAT_{self.key.upper()}"
        if self.kind is int:
            value: Int | Float = Int()
            bound: Int | Float = Int()
            kind: Any = int
        else:
            value, bound, kind = Float(), Float(), float  # bounds: checked against each other
        return (
            Setting(name, value, kind(self.default), f"Default {self.key}."),
            Setting(f"{name}_MIN", bound, kind(self.minimum), f"Lowest accepted {self.key}."),
            Setting(f"{name}_MAX", bound, kind(self.maximum), f"Highest accepted {self.key}."),
        )


# In validation order (§14).
SAMPLING_RULES: tuple[SamplingRule, ...] = (
    SamplingRule("temperature", float, 0.8, 0.0, 1.2),
    SamplingRule("top_p", float, 0.95, 0.6, 1.0),
    SamplingRule("top_k", int, 30, 0, 60),
    SamplingRule("min_p", float, 0.0, 0.0, 0.2),
    SamplingRule("repetition_penalty", float, 1.0, 1.0, 1.3),
    SamplingRule("presence_penalty", float, 0.0, 0.0, 0.5),
    SamplingRule("frequency_penalty", float, 0.0, 0.0, 0.5),
)
SAMPLING_KEYS: tuple[tuple[str, type[int] | type[float]], ...] = tuple(
    (rule.key, rule.kind) for rule in SAMPLING_RULES
)
SAMPLING_SETTINGS: tuple[Setting, ...] = tuple(
    setting for rule in SAMPLING_RULES for setting in rule.settings()
)
#: What one chat generation of a turn depends on (the bridge and the ensemble resolve these).
GENERATION_SETTINGS: tuple[Setting, ...] = (CHAT_MAX_OUT, CHAT_LOGIT_BIAS_FILE, *SAMPLING_SETTINGS)


def _coerce_float(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int | float):
        return float(value)  # OverflowError for huge ints: handled as out of range
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty string")
        return float(text)
    raise TypeError(f"unsupported type {type(value).__name__}")


def _coerce_int(value: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not an integral number")
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty string")
        return int(text)
    raise TypeError(f"unsupported type {type(value).__name__}")


def coerce_sampling_value(value: Any, kind: type[int] | type[float]) -> float:
    """A sampling key's value as its kind: a JSON number, or a numeric string; booleans are not
    numbers and an int key must be integral. TypeError / ValueError when it is none of these,
    OverflowError for an int too large for a float."""
    return _coerce_int(value) if kind is int else _coerce_float(value)


def sampling_problems(values: Mapping[str, Any]) -> list[str]:
    """Each sampling range that is empty, or whose default lies outside it."""
    problems: list[str] = []
    for rule in SAMPLING_RULES:
        upper = f"CHAT_{rule.key.upper()}"
        minimum = values.get(f"{upper.lower()}_min")
        maximum = values.get(f"{upper.lower()}_max")
        default = values.get(upper.lower())
        if minimum is None or maximum is None:
            continue
        if minimum > maximum:
            problems.append(
                f"{upper}_MIN={minimum} is greater than {upper}_MAX={maximum}: expected MIN <= MAX"
            )
        elif default is not None and not minimum <= default <= maximum:
            problems.append(
                f"{upper}={default} is outside [{minimum}, {maximum}]: expected a default "
                f"between {upper}_MIN and {upper}_MAX"
            )
    return problems


def sampling_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """The server default of each §14 key, from resolved ``GENERATION_SETTINGS`` values."""
    return {key: values[f"chat_{key}"] for key, _kind in SAMPLING_KEYS}


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


def turn_sampling(
    defaults: Mapping[str, Any],
    overrides: Mapping[str, Any],
    *,
    max_tokens: int,
    phrase_bias: Mapping[str, float],
) -> dict[str, Any]:
    """``sampling_parameters`` of a chat turn: the §14 defaults, then the overrides, the token
    budget, stop strings and phrase bias."""
    sampling: dict[str, Any] = {key: defaults[key] for key, _kind in SAMPLING_KEYS}
    sampling.update(overrides)
    sampling.update(
        {
            "max_tokens": max_tokens,
            "stop": list(INFERENCE_STOP),
            "priority": CHAT_PRIORITY,
            # The bridge aborts explicitly (abort_request_id) on cancel, barge-in and
            # disconnect, so the chat model need not poll: each poll costs every stream some
            # latency.
            "cancel_poll": False,
        }
    )
    if phrase_bias:
        sampling["phrase_bias"] = dict(phrase_bias)
    return sampling


def warm_sampling() -> dict[str, Any]:
    """A 1-token greedy request at warm priority: fills the prefix cache, nothing else."""
    return {"max_tokens": 1, "temperature": 0.0, "stop": list(WARM_STOP), "priority": WARM_PRIORITY}
