"""The chat model's request parsing: compatibility with Triton's vLLM backend, Yap's additions,
and a precise message for every bad input."""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from serving.chat.request import RequestError, parse_request, parse_sampling


def text(value: str) -> np.ndarray:
    return np.array([value.encode()], dtype=np.object_)


def flag(value: bool) -> np.ndarray:
    return np.array([value], dtype=bool)


def parse(**inputs: np.ndarray):  # type: ignore[no-untyped-def]
    return parse_request(inputs, "", default_max_tokens=150)


def test_plain_text_input_defaults_like_the_vllm_backend() -> None:
    request = parse(text_input=text("Hello"))
    assert request.prompt == "Hello" and request.messages is None
    assert request.stream is False
    assert request.prepend_input is True  # not streaming: input prepended unless excluded
    assert request.sampling == {"max_tokens": 150}


def test_streaming_never_prepends_input() -> None:
    request = parse(text_input=text("Hi"), stream=flag(True))
    assert request.stream and not request.prepend_input
    with pytest.raises(RequestError, match="exclude_input_in_output=false is not allowed"):
        parse(text_input=text("Hi"), stream=flag(True), exclude_input_in_output=flag(False))


def test_messages_input() -> None:
    messages = [{"role": "system", "content": "Be nice."}, {"role": "user", "content": "Hi"}]
    request = parse(messages=text(json.dumps(messages)), stream=flag(True))
    assert request.messages == tuple(messages)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "messages is not valid JSON"),
        ("[]", "non-empty JSON list"),
        ('{"role": "user"}', "non-empty JSON list"),
        ('[{"role": "user", "content": 3}]', "messages[0].content must be a string"),
        ('[{"role": "robot", "content": "x"}]', "messages[0].role must be one of"),
        ('["hi"]', "messages[0] must be an object"),
    ],
)
def test_bad_messages(payload: str, message: str) -> None:
    with pytest.raises(RequestError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse(messages=text(payload))


def test_prompt_and_messages_are_exclusive() -> None:
    with pytest.raises(RequestError, match="either 'text_input' or 'messages', not both"):
        parse(text_input=text("a"), messages=text('[{"role": "user", "content": "b"}]'))
    with pytest.raises(RequestError, match="is required"):
        parse(stream=flag(True))


def test_sampling_values_are_coerced_like_genai_perf_sends_them() -> None:
    sampling, options = parse_sampling(
        json.dumps(
            {
                "temperature": "0.5",
                "top_k": "20",
                "max_tokens": 12.0,
                "ignore_eos": "true",
                "stop": ["\n"],
                "logit_bias": {"42": -100},
                "priority": -1,
                "phrase_bias": {"Well": -100},
                "seed": None,
            }
        ),
        default_max_tokens=150,
    )
    assert sampling == {
        "max_tokens": 12,
        "temperature": 0.5,
        "top_k": 20,
        "ignore_eos": True,
        "stop": ["\n"],
        "logit_bias": {42: -100.0},
    }
    assert options == {"priority": -1, "phrase_bias": {"Well": -100.0}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ('{"temperature": "hot"}', "'temperature' must be a number"),
        ('{"temperature": true}', "'temperature' must be a number"),
        ('{"max_tokens": 1.5}', "'max_tokens' must be an integer"),
        ('{"max_tokens": 0}', "max_tokens must be >= 1"),
        ('{"top_p": 0}', r"top_p must be in \(0, 1\]"),
        ('{"stop": [1]}', "'stop' must be a string or list of strings"),
        ('{"logit_bias": {"x": 1}}', "'logit_bias' must be an object of token id to number"),
        ('{"lora_name": "a"}', "LoRA adapters are not enabled"),
        ('{"temprature": 1}', "unknown sampling parameter 'temprature'"),
        ("[1, 2]", "must be a JSON object"),
        ('{"n": 2}', None),
    ],
)
def test_bad_sampling_parameters(payload: str, message: str | None) -> None:
    if message is None:
        assert parse_sampling(payload, default_max_tokens=1)[0]["n"] == 2
        return
    with pytest.raises(RequestError, match=message):
        parse_sampling(payload, default_max_tokens=1)


def test_streaming_rejects_parallel_samples() -> None:
    with pytest.raises(RequestError, match="n=1"):
        parse(text_input=text("x"), stream=flag(True), sampling_parameters=text('{"n": 2}'))


def test_request_parameters_are_used_without_the_sampling_tensor() -> None:
    request = parse_request({"text_input": text("x")}, '{"temperature": 0.1}', default_max_tokens=7)
    assert request.sampling == {"max_tokens": 7, "temperature": 0.1}


def test_output_flags() -> None:
    request = parse(text_input=text("x"), return_finish_reason=flag(True), return_stats=flag(False))
    assert request.wants("return_finish_reason") and not request.wants("return_stats")


def test_invalid_utf8_is_reported() -> None:
    with pytest.raises(RequestError, match="not valid UTF-8"):
        parse(text_input=np.array([b"\xff\xfe"], dtype=np.object_))


@given(st.text(max_size=200))
def test_sampling_parser_only_raises_request_errors(payload: str) -> None:
    with contextlib.suppress(RequestError):
        parse_sampling(payload, default_max_tokens=5)


@given(
    st.dictionaries(
        st.sampled_from(["temperature", "top_p", "top_k", "stop", "max_tokens", "x"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(),
            st.text(max_size=5),
            st.lists(st.integers(), max_size=3),
        ),
    )
)
def test_sampling_values_only_raise_request_errors(payload: dict) -> None:  # type: ignore[type-arg]
    with contextlib.suppress(RequestError):
        parse_sampling(json.dumps(payload), default_max_tokens=5)
