"""Parse and validate a ``POST /v1/chat/completions`` body into a ``CompletionRequest`` (pure).

The parser never raises: it returns a request or an ``OpenAIError`` (400 naming the field).

Sampling goes through the Yap validation of §14 (``parse_sampling_overrides``), so the ranges
are the server's ``CHAT_*_MIN/MAX``, not OpenAI's. Fields OpenAI has no name for travel as
extra top-level keys (the SDKs' ``extra_body``): ``top_k``, ``min_p``, ``repetition_penalty``,
``sanitize_output`` (the output cleaner, default on) and ``phrase_bias`` (the server's phrase
bias, default on). Unknown fields are refused with a 400 that names them all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bridge.openai_api import errors
from bridge.openai_api.conversation import Conversation, offered_tools, read_conversation
from bridge.openai_api.errors import OpenAIError
from bridge.protocol.config import BridgeConfig
from bridge.protocol.errors import ProtocolError
from bridge.protocol.sampling import SamplingOverrides, parse_sampling_overrides

# The sampling fields of §14 a request may carry at top level (OpenAI's names where it has one).
SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "top_k",
    "min_p",
    "repetition_penalty",
    "sanitize_output",
)
# Accepted and without effect here (bookkeeping of the caller, or a choice we always make).
IGNORED_FIELDS = ("user", "metadata", "store", "service_tier", "parallel_tool_calls")
SUPPORTED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "stream",
        "stream_options",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "seed",
        "n",
        "logit_bias",
        "tools",
        "tool_choice",
        "response_format",
        "logprobs",
        "top_logprobs",
        "phrase_bias",
        "include_timings",
        *SAMPLING_FIELDS,
        *IGNORED_FIELDS,
    }
)
MAX_STOP = 4  # OpenAI's limit
#: The tools a Yap turn can call: the screen-intent decision and the phrase rules (§12.1).
YAP_TOOLS = ("take_screenshot", "start_freestyle", "stop_freestyle", "switch_gender")


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    model: str
    conversation: Conversation
    stream: bool
    include_usage: bool
    max_tokens: int  # already capped at CHAT_MAX_OUT
    sampling: SamplingOverrides | None
    phrase_bias: bool
    stop: tuple[str, ...]
    seed: int | None
    logit_bias: dict[int, float]
    tools: tuple[str, ...]  # the offered Yap tools the turn may call (empty: no tool decision)
    user: str | None
    include_timings: bool = False  # usage carries the turn's timings as ``yap_timings`` (§15)

    @property
    def sanitize_output(self) -> bool:
        return self.sampling is None or self.sampling.sanitizes_output


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _protocol_to_openai(error: ProtocolError) -> OpenAIError:
    code = str(error.error_code) if error.error_code else None
    param = None
    if code:
        for field in SAMPLING_FIELDS:
            if field in code:
                param = field
    return errors.invalid(error.message, param=param, code=code)


def parse_completion_request(
    body: Any, config: BridgeConfig, *, served_model: str
) -> CompletionRequest | OpenAIError:
    if not isinstance(body, dict):
        return errors.invalid("the request body must be a JSON object")
    given = {key: value for key, value in body.items() if value is not None}
    unknown = sorted(set(given) - SUPPORTED_FIELDS)
    if unknown:
        return errors.unsupported_fields(unknown)

    model = given.get("model")
    if not isinstance(model, str) or not model:
        return errors.invalid("'model' is required (a string)", param="model")
    if model != served_model:
        return errors.model_not_found(model, served_model)

    stream = given.get("stream", False)
    if not isinstance(stream, bool):
        return errors.invalid("'stream' must be a boolean", param="stream")
    include_usage = False
    options = given.get("stream_options")
    if options is not None:
        if not stream:
            return errors.invalid(
                "'stream_options' is only allowed when 'stream' is true", param="stream_options"
            )
        if not isinstance(options, dict) or set(options) - {"include_usage"}:
            return errors.invalid(
                "'stream_options' supports only {\"include_usage\": bool}",
                param="stream_options",
            )
        include_usage = options.get("include_usage", False) is True

    n = given.get("n", 1)
    if n != 1 or not _is_int(n):
        return errors.invalid("only n=1 is supported", param="n", code="unsupported_value")

    max_tokens = config.chat_max_out
    for field in ("max_tokens", "max_completion_tokens"):
        if field in given:
            value = given[field]
            if not _is_int(value) or value < 1:
                return errors.invalid(f"'{field}' must be an integer >= 1", param=field)
            max_tokens = min(value, config.chat_max_out)  # CHAT_MAX_OUT: the turn's budget

    stop = given.get("stop", [])
    if isinstance(stop, str):
        stop = [stop]
    if (
        not isinstance(stop, list)
        or len(stop) > MAX_STOP
        or not all(isinstance(s, str) and s for s in stop)
    ):
        return errors.invalid(
            f"'stop' must be a non-empty string or a list of at most {MAX_STOP} of them",
            param="stop",
        )

    seed = given.get("seed")
    if seed is not None and not _is_int(seed):
        return errors.invalid("'seed' must be an integer", param="seed")

    logit_bias: dict[int, float] = {}
    raw_bias = given.get("logit_bias", {})
    if not isinstance(raw_bias, dict):
        return errors.invalid("'logit_bias' must map token ids to numbers", param="logit_bias")
    for key, value in raw_bias.items():
        number_ok = (_is_int(value) or isinstance(value, float)) and math.isfinite(value)
        if not (isinstance(key, str) and key.strip().isdigit()) or not number_ok:
            return errors.invalid(
                f"'logit_bias' must map token ids (integer strings) to numbers, got "
                f"{key!r}: {value!r}",
                param="logit_bias",
            )
        if not -100 <= value <= 100:
            return errors.invalid(
                f"'logit_bias' values must be between -100 and 100, got {value}",
                param="logit_bias",
            )
        logit_bias[int(key)] = float(value)

    for field, allowed in (("logprobs", (False,)), ("top_logprobs", (0,))):
        if field in given and given[field] not in allowed:
            return errors.invalid(
                f"'{field}' is not supported (log probabilities are not returned)",
                param=field,
                code="unsupported_value",
            )
    response_format = given.get("response_format")
    if response_format is not None and response_format != {"type": "text"}:
        return errors.invalid(
            'only response_format {"type": "text"} is supported (no JSON mode)',
            param="response_format",
            code="unsupported_value",
        )

    phrase_bias = given.get("phrase_bias", True)
    if not isinstance(phrase_bias, bool):
        return errors.invalid("'phrase_bias' must be a boolean", param="phrase_bias")
    include_timings = given.get("include_timings", False)
    if not isinstance(include_timings, bool):
        return errors.invalid("'include_timings' must be a boolean", param="include_timings")
    user = given.get("user")
    if user is not None and not isinstance(user, str):
        return errors.invalid("'user' must be a string", param="user")

    sampling = parse_sampling_overrides(
        {key: given[key] for key in SAMPLING_FIELDS if key in given}, config
    )
    if isinstance(sampling, ProtocolError):
        return _protocol_to_openai(sampling)

    offered: tuple[str, ...] = ()
    if "tools" in given:
        if not isinstance(given["tools"], list):
            return errors.invalid("'tools' must be a list", param="tools")
        names = offered_tools(given["tools"])
        if isinstance(names, OpenAIError):
            return names
        offered = names
    choice = given.get("tool_choice", "auto")
    if choice == "none":
        offered = ()
    elif choice != "auto":
        return errors.invalid(
            "only tool_choice 'auto' or 'none' is supported: a Yap turn calls a tool only "
            "when the screen-intent decision says so",
            param="tool_choice",
            code="unsupported_value",
        )

    conversation = read_conversation(
        given.get("messages"),
        screen_checked_prefix=config.screen_checked_prefix,
        prompt_max_chars=config.prompt_sanitize_max_chars,
    )
    if isinstance(conversation, OpenAIError):
        return conversation
    return CompletionRequest(
        model=model,
        conversation=conversation,
        stream=stream,
        include_usage=include_usage,
        max_tokens=max_tokens,
        sampling=sampling,
        phrase_bias=phrase_bias,
        stop=tuple(stop),
        seed=seed,
        logit_bias=logit_bias,
        tools=tuple(name for name in offered if name in YAP_TOOLS),
        user=user,
        include_timings=include_timings,
    )
