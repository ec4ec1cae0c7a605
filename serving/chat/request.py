"""Turn the chat model's input tensors into a validated ``ChatRequest`` (pure, no Triton).

The tensor interface is the one of Triton's own vLLM backend, so that existing Triton clients,
``perf_analyzer`` and GenAI-Perf work unchanged:

- ``text_input`` (prompt text) *or* ``messages`` (a JSON list of ``{"role", "content"}``,
  rendered with the model's own chat template; a Yap addition);
- ``stream``, ``exclude_input_in_output``, ``sampling_parameters`` (a JSON object; the request's
  JSON parameters are read when the tensor is absent), ``return_finish_reason``,
  ``return_cumulative_logprob``, ``return_logprobs``, ``return_num_input_tokens``,
  ``return_num_output_tokens`` and Yap's ``return_stats``.

``sampling_parameters`` takes vLLM ``SamplingParams`` fields plus Yap's own keys
(``YAP_KEYS``). Every value is type-checked here so that a bad request gets a message naming the
field, instead of an exception from deep inside the engine.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# vLLM SamplingParams fields a client may set, with the JSON type each must have.
NUMBER, INTEGER, BOOLEAN, TEXT = "number", "integer", "boolean", "string"
SAMPLING_FIELDS: dict[str, str] = {
    "n": INTEGER,
    "presence_penalty": NUMBER,
    "frequency_penalty": NUMBER,
    "repetition_penalty": NUMBER,
    "temperature": NUMBER,
    "top_p": NUMBER,
    "top_k": INTEGER,
    "min_p": NUMBER,
    "seed": INTEGER,
    "stop": "string or list of strings",
    "stop_token_ids": "list of integers",
    "ignore_eos": BOOLEAN,
    "max_tokens": INTEGER,
    "min_tokens": INTEGER,
    "logprobs": INTEGER,
    "prompt_logprobs": INTEGER,
    "detokenize": BOOLEAN,
    "skip_special_tokens": BOOLEAN,
    "spaces_between_special_tokens": BOOLEAN,
    "include_stop_str_in_output": BOOLEAN,
    "logit_bias": "object of token id to number",
    "allowed_token_ids": "list of integers",
    "bad_words": "list of strings",
    "truncate_prompt_tokens": INTEGER,
}
# Yap's own keys, consumed here and never passed to SamplingParams.
YAP_KEYS: dict[str, str] = {
    "priority": INTEGER,  # lower runs first (engine priority scheduling)
    "phrase_bias": "object of text to number",  # every token of each text gets the bias
    "chat_template_kwargs": "object",  # e.g. {"enable_thinking": false}
    "add_generation_prompt": BOOLEAN,
    # false: never poll this request for client cancellation; the client aborts it explicitly
    # with abort_request_id (each poll is an IPC call that can stall every stream, see engine).
    "cancel_poll": BOOLEAN,
}
OUTPUT_FLAGS = (
    "return_finish_reason",
    "return_cumulative_logprob",
    "return_logprobs",
    "return_num_input_tokens",
    "return_num_output_tokens",
    "return_stats",
)
ROLES = {"system", "user", "assistant", "tool", "developer"}
INPUT_NAMES = (
    "abort_request_id",
    "text_input",
    "messages",
    "stream",
    "exclude_input_in_output",
    "sampling_parameters",
    *OUTPUT_FLAGS,
)


class RequestError(ValueError):
    """The request is malformed; the message says which input and why."""


@dataclass(frozen=True)
class ChatRequest:
    prompt: str | None  # text_input, used as it is
    messages: tuple[dict[str, str], ...] | None  # rendered with the chat template
    stream: bool
    prepend_input: bool
    sampling: dict[str, Any]
    priority: int = 0
    phrase_bias: dict[str, float] = field(default_factory=dict)
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    add_generation_prompt: bool = True
    cancel_poll: bool = True
    outputs: frozenset[str] = frozenset()

    def wants(self, flag: str) -> bool:
        return flag in self.outputs


def _first(value: Any) -> Any:
    """First element of a tensor given as a numpy array or list (shape [1] or [1, 1])."""
    while hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        if len(value) == 0:
            return None
        value = value[0]
    if hasattr(value, "item"):
        value = value.item()
    return value


def _text(name: str, value: Any) -> str:
    item = _first(value)
    if isinstance(item, bytes):
        try:
            return item.decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError(f"input '{name}' is not valid UTF-8") from None
    if isinstance(item, str):
        return item
    raise RequestError(f"input '{name}' must be a BYTES/STRING tensor")


def _bool(name: str, value: Any) -> bool:
    item = _first(value)
    if isinstance(item, bool):
        return item
    if isinstance(item, (int,)) and item in (0, 1):
        return bool(item)
    raise RequestError(f"input '{name}' must be a BOOL tensor")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(float(value))


def _coerce(key: str, value: Any, kind: str) -> Any:
    """Check one sampling value; numeric strings are accepted as GenAI-Perf sends them."""
    if kind == NUMBER:
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = float(value)
        if _is_number(value):
            return float(value)
    elif kind == INTEGER:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if _is_int(value):
            return value
    elif kind == BOOLEAN:
        if isinstance(value, str) and value.lower() in {"true", "false"}:
            return value.lower() == "true"
        if isinstance(value, bool):
            return value
    elif kind == "string or list of strings":
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            return value
    elif kind in {"list of integers"}:
        if isinstance(value, list) and all(_is_int(v) for v in value):
            return value
    elif kind == "list of strings":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    elif kind == "object of token id to number":
        if isinstance(value, dict) and all(_is_number(v) for v in value.values()):
            try:
                return {int(k): float(v) for k, v in value.items()}
            except ValueError:
                pass
    elif kind == "object of text to number":
        if isinstance(value, dict) and all(_is_number(v) for v in value.values()):
            return {str(k): float(v) for k, v in value.items()}
    elif kind == "object" and isinstance(value, dict):
        return value
    article = "an" if kind[0] in "aeiou" else "a"
    raise RequestError(
        f"sampling parameter '{key}' must be {article} {kind}, got {json.dumps(value)}"
    )


def parse_sampling(text: str, *, default_max_tokens: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a sampling JSON object into (SamplingParams kwargs, Yap options)."""
    if not text.strip():
        raw: Any = {}
    else:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise RequestError(f"sampling_parameters is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise RequestError("sampling_parameters must be a JSON object")
    sampling: dict[str, Any] = {"max_tokens": default_max_tokens}
    options: dict[str, Any] = {}
    for key, value in raw.items():
        if value is None:
            continue
        if key in SAMPLING_FIELDS:
            sampling[key] = _coerce(key, value, SAMPLING_FIELDS[key])
        elif key in YAP_KEYS:
            options[key] = _coerce(key, value, YAP_KEYS[key])
        elif key == "lora_name":
            raise RequestError("LoRA adapters are not enabled on this model")
        else:
            known = ", ".join(sorted([*SAMPLING_FIELDS, *YAP_KEYS]))
            raise RequestError(f"unknown sampling parameter '{key}'; known parameters: {known}")
    _check_ranges(sampling, options)
    return sampling, options


def _check_ranges(sampling: Mapping[str, Any], options: Mapping[str, Any]) -> None:
    def need(ok: bool, message: str) -> None:
        if not ok:
            raise RequestError(message)

    if "temperature" in sampling:
        need(sampling["temperature"] >= 0, "temperature must be >= 0")
    if "top_p" in sampling:
        need(0 < sampling["top_p"] <= 1, "top_p must be in (0, 1]")
    if "top_k" in sampling:
        need(sampling["top_k"] >= -1, "top_k must be -1, 0 (disabled) or a positive integer")
    if "min_p" in sampling:
        need(0 <= sampling["min_p"] <= 1, "min_p must be in [0, 1]")
    if "max_tokens" in sampling:
        need(sampling["max_tokens"] >= 1, "max_tokens must be >= 1")
    if "n" in sampling:
        need(sampling["n"] >= 1, "n must be >= 1")
    if "repetition_penalty" in sampling:
        need(sampling["repetition_penalty"] > 0, "repetition_penalty must be > 0")
    for key in ("presence_penalty", "frequency_penalty"):
        if key in sampling:
            need(-2 <= sampling[key] <= 2, f"{key} must be in [-2, 2]")


def parse_messages(text: str) -> tuple[dict[str, str], ...]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise RequestError(f"messages is not valid JSON: {exc}") from None
    if not isinstance(raw, list) or not raw:
        raise RequestError('messages must be a non-empty JSON list of {"role", "content"} objects')
    messages = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RequestError(f"messages[{index}] must be an object")
        role, content = item.get("role"), item.get("content")
        if role not in ROLES:
            raise RequestError(f"messages[{index}].role must be one of {', '.join(sorted(ROLES))}")
        if not isinstance(content, str):
            raise RequestError(f"messages[{index}].content must be a string")
        messages.append({"role": role, "content": content})
    return tuple(messages)


def abort_target(inputs: Mapping[str, Any]) -> str | None:
    """The request id a control request asks to abort (input ``abort_request_id``), if any."""
    if inputs.get("abort_request_id") is None:
        return None
    target = _text("abort_request_id", inputs["abort_request_id"]).strip()
    if not target:
        raise RequestError("abort_request_id must name the request id to abort")
    return target


def parse_request(
    inputs: Mapping[str, Any], parameters_json: str, *, default_max_tokens: int
) -> ChatRequest:
    """Build a request from named input arrays (absent inputs are missing or None)."""

    def present(name: str) -> bool:
        return inputs.get(name) is not None

    prompt = _text("text_input", inputs["text_input"]) if present("text_input") else None
    messages = (
        parse_messages(_text("messages", inputs["messages"])) if present("messages") else None
    )
    if prompt is None and messages is None:
        raise RequestError("either 'text_input' or 'messages' is required")
    if prompt is not None and messages is not None:
        raise RequestError("send either 'text_input' or 'messages', not both")

    stream = _bool("stream", inputs["stream"]) if present("stream") else False
    if present("exclude_input_in_output"):
        prepend_input = not _bool("exclude_input_in_output", inputs["exclude_input_in_output"])
    else:
        prepend_input = not stream
    if prepend_input and stream:
        raise RequestError("when streaming, exclude_input_in_output=false is not allowed")

    if present("sampling_parameters"):
        sampling_text = _text("sampling_parameters", inputs["sampling_parameters"])
    else:
        sampling_text = parameters_json or "{}"
    sampling, options = parse_sampling(sampling_text, default_max_tokens=default_max_tokens)
    if stream and sampling.get("n", 1) != 1:
        raise RequestError("streaming supports n=1 only")

    outputs = frozenset(
        name for name in OUTPUT_FLAGS if present(name) and _bool(name, inputs[name])
    )
    return ChatRequest(
        prompt=prompt,
        messages=messages,
        stream=stream,
        prepend_input=prepend_input,
        sampling=sampling,
        priority=int(options.get("priority", 0)),
        phrase_bias=options.get("phrase_bias", {}),
        chat_template_kwargs=options.get("chat_template_kwargs", {}),
        add_generation_prompt=bool(options.get("add_generation_prompt", True)),
        cancel_poll=bool(options.get("cancel_poll", True)),
        outputs=outputs,
    )
