"""The OpenAI request parser and message mapping: supported fields, OpenAI-style 400s naming
what is wrong, the §14 sampling ranges of the Yap protocol, tools and tool results."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.openai_api.conversation import Conversation, read_conversation
from bridge.openai_api.errors import OpenAIError
from bridge.openai_api.request import CompletionRequest, parse_completion_request
from bridge.openai_api.turns import engine_sampling
from bridge.protocol.config import BridgeConfig

CONFIG = BridgeConfig.from_env({"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "4"})
HELLO = [{"role": "user", "content": "hello"}]


def parse(**body: Any) -> CompletionRequest | OpenAIError:
    body.setdefault("model", "yap")
    body.setdefault("messages", HELLO)
    return parse_completion_request(body, CONFIG, served_model="yap")


def ok(**body: Any) -> CompletionRequest:
    request = parse(**body)
    assert isinstance(request, CompletionRequest), request
    return request


def refused(**body: Any) -> OpenAIError:
    error = parse(**body)
    assert isinstance(error, OpenAIError), error
    return error


def test_a_minimal_request_gets_the_turn_defaults() -> None:
    request = ok()
    assert request.stream is False and request.include_usage is False
    assert request.max_tokens == CONFIG.chat_max_out
    assert request.sampling is None and request.sanitize_output and request.phrase_bias
    assert request.tools == () and request.stop == () and request.seed is None
    assert request.conversation == Conversation(None, (), "hello", followup=False)


def test_unsupported_fields_are_named_in_one_400() -> None:
    error = refused(audio={"voice": "x"}, functions=[], prediction={})
    assert error.status == 400 and error.code == "unsupported_parameter"
    assert "'audio', 'functions', 'prediction'" in error.message
    assert error.to_dict()["error"]["type"] == "invalid_request_error"
    assert error.param == "audio"


def test_null_fields_count_as_absent() -> None:
    assert ok(temperature=None, audio=None, stop=None).sampling is None


def test_model_must_be_the_served_one() -> None:
    error = refused(model="gpt-4o")
    assert (error.status, error.code, error.param) == (404, "model_not_found", "model")
    assert refused(model=None).status == 400


@pytest.mark.parametrize("n", [2, 0, True, "1"])
def test_only_n_1(n: Any) -> None:
    assert refused(n=n).param == "n"


def test_n_1_is_fine() -> None:
    ok(n=1)


def test_sampling_uses_the_yap_ranges() -> None:
    request = ok(temperature=0.3, top_p=0.9, presence_penalty=0.1, frequency_penalty=0.2)
    assert request.sampling is not None
    assert request.sampling.sampling_parameters() == {
        "temperature": 0.3,
        "top_p": 0.9,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
    }
    lo, hi = CONFIG.sampling_range("temperature")
    error = refused(temperature=hi + 0.1)  # OpenAI allows 2.0; this server's range is narrower
    assert error.status == 400 and error.param == "temperature"
    assert error.code == "temperature_out_of_range"
    assert str(lo) in error.message and str(hi) in error.message
    assert refused(temperature="hot").code == "invalid_temperature"
    assert refused(frequency_penalty=1.5).param == "frequency_penalty"


def test_extra_body_keys_reach_the_turn() -> None:
    request = ok(top_k=10, min_p=0.05, repetition_penalty=1.1, sanitize_output=False)
    assert request.sampling is not None and not request.sanitize_output
    values = engine_sampling(request, CONFIG, {"~": -100.0})
    assert (values["top_k"], values["min_p"], values["repetition_penalty"]) == (10, 0.05, 1.1)
    assert refused(sanitize_output="no").code == "invalid_sanitize_output"
    assert not ok(phrase_bias=False).phrase_bias
    assert refused(phrase_bias=1).param == "phrase_bias"
    assert ok(include_timings=True).include_timings and not ok().include_timings
    assert refused(include_timings="yes").param == "include_timings"


def test_engine_sampling_is_a_yap_turn_plus_openai_fields() -> None:
    bias = {"~": -100.0}
    values = engine_sampling(ok(seed=7, logit_bias={"42": -100}, stop="END"), CONFIG, bias)
    assert values["temperature"] == CONFIG.chat_temperature
    assert values["seed"] == 7 and values["logit_bias"] == {"42": -100.0}
    assert values["max_tokens"] == CONFIG.chat_max_out and values["phrase_bias"] == bias
    assert values["stop"][-1] == "END" and "<|im_end|>" in values["stop"]
    assert "phrase_bias" not in engine_sampling(ok(phrase_bias=False), CONFIG, bias)


def test_max_tokens_is_capped_by_the_turn_budget() -> None:
    assert ok(max_tokens=5).max_tokens == 5
    assert ok(max_completion_tokens=7).max_tokens == 7
    assert ok(max_tokens=100_000).max_tokens == CONFIG.chat_max_out
    assert refused(max_tokens=0).param == "max_tokens"
    assert refused(max_completion_tokens=1.5).param == "max_completion_tokens"


def test_stop_strings() -> None:
    assert ok(stop="END").stop == ("END",)
    assert ok(stop=["a", "b"]).stop == ("a", "b")
    assert refused(stop=["a", "b", "c", "d", "e"]).param == "stop"
    assert refused(stop=[""]).param == "stop"
    assert refused(stop=3).param == "stop"


def test_logit_bias_and_seed() -> None:
    assert ok(logit_bias={"5": 10, "6": -2.5}).logit_bias == {5: 10.0, 6: -2.5}
    assert refused(logit_bias={"x": 1}).param == "logit_bias"
    assert refused(logit_bias={"5": 101}).param == "logit_bias"
    assert refused(logit_bias=[1]).param == "logit_bias"
    assert refused(seed="7").param == "seed"


def test_stream_options() -> None:
    assert ok(stream=True, stream_options={"include_usage": True}).include_usage
    assert refused(stream_options={"include_usage": True}).param == "stream_options"
    assert refused(stream=True, stream_options={"other": 1}).param == "stream_options"
    assert refused(stream="yes").param == "stream"


def test_fields_accepted_without_effect_and_values_we_do_not_serve() -> None:
    ok(user="u-1", metadata={"a": "b"}, store=False, service_tier="auto", parallel_tool_calls=True)
    ok(logprobs=False, response_format={"type": "text"})
    assert refused(logprobs=True).param == "logprobs"
    assert refused(top_logprobs=3).param == "top_logprobs"
    assert refused(response_format={"type": "json_object"}).param == "response_format"


SCREENSHOT_TOOL = {"type": "function", "function": {"name": "take_screenshot", "parameters": {}}}
WEATHER_TOOL = {"type": "function", "function": {"name": "get_weather"}}


def test_tools_offer_the_screen_decision() -> None:
    assert ok(tools=[SCREENSHOT_TOOL, WEATHER_TOOL]).tools == ("take_screenshot",)
    assert ok(tools=[WEATHER_TOOL]).tools == ()  # a tool the turn can never call
    assert ok(tools=[SCREENSHOT_TOOL], tool_choice="none").tools == ()
    assert ok(tools=[SCREENSHOT_TOOL], tool_choice="auto").tools == ("take_screenshot",)
    assert refused(tools=[SCREENSHOT_TOOL], tool_choice="required").param == "tool_choice"
    assert refused(tools=[{"type": "code_interpreter"}]).param == "tools[0]"
    assert refused(tools={"a": 1}).param == "tools"


def conversation(messages: list[dict[str, Any]]) -> Conversation | OpenAIError:
    return read_conversation(
        messages, screen_checked_prefix="ON THE SCREEN NOW:", prompt_max_chars=1000
    )


def test_messages_become_persona_history_and_utterance() -> None:
    found = conversation(
        [
            {"role": "system", "content": "You are Maya."},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "assistant", "content": "Hi there!"},
            {"role": "user", "content": "hey"},
            {"role": "user", "content": "how are you?"},
            {"role": "assistant", "content": "Great, and yo"},  # barged in: what was spoken
            {"role": "user", "content": "what's two plus two?"},
        ]
    )
    assert found == Conversation(
        "You are Maya.\n\nBe brief.",
        (("", "Hi there!"), ("hey\n\nhow are you?", "Great, and yo")),
        "what's two plus two?",
        followup=False,
    )


def test_a_tool_result_is_a_followup() -> None:
    found = conversation(
        [
            {"role": "user", "content": "look at this"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "take_screenshot"}}
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "a red car on a street"},
        ]
    )
    assert isinstance(found, Conversation)
    assert found.followup and found.history == (("look at this", ""),)
    assert found.user_text == "ON THE SCREEN NOW: a red car on a street"


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([], "messages"),
        ("hi", "messages"),
        (
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            "messages[1].role",
        ),
        ([{"role": "function", "content": "x"}], "messages[0].role"),
        ([{"role": "user"}], "messages[0].content"),
        ([{"role": "user", "content": 5}], "messages[0].content"),
        (
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
            "messages[0].content[0]",
        ),
        ([{"role": "system", "content": "\x00\x01"}, {"role": "user", "content": "a"}], "messages"),
        (["not an object"], "messages[0]"),
    ],
)
def test_bad_messages_are_named(messages: Any, param: str) -> None:
    error = conversation(messages)
    assert isinstance(error, OpenAIError) and error.status == 400
    assert error.param == param, error.message


def test_a_body_that_is_not_an_object() -> None:
    error = parse_completion_request([1], CONFIG, served_model="yap")
    assert isinstance(error, OpenAIError) and error.status == 400
