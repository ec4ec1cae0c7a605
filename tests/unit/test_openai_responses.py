"""OpenAI reply shapes: chunks, the usage chunk, whole replies, tool calls, errors, SSE."""

from __future__ import annotations

import json

from bridge.openai_api import errors
from bridge.openai_api.responses import (
    DONE_EVENT,
    CompletionIds,
    finish_reason,
    models_list,
    sse,
    tool_calls_from_raw,
    usage,
)


def test_sse_frames_one_json_object() -> None:
    event = sse({"a": "é"})
    assert event.startswith(b"data: ") and event.endswith(b"\n\n")
    assert json.loads(event[6:]) == {"a": "é"}
    assert DONE_EVENT == b"data: [DONE]\n\n"


def test_chunks_repeat_the_ids_and_the_usage_chunk_has_no_choices() -> None:
    ids = CompletionIds("yap")
    first, last = ids.chunk({"content": "Hi"}), ids.chunk(None, usage_block=usage(3, 2))
    assert first["id"] == last["id"] and first["id"].startswith("chatcmpl-")
    assert first["object"] == "chat.completion.chunk" and first["model"] == "yap"
    assert first["choices"] == [
        {"index": 0, "delta": {"content": "Hi"}, "logprobs": None, "finish_reason": None}
    ]
    assert "usage" not in first
    assert last["choices"] == []
    assert last["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_tool_calls_only_for_offered_tools() -> None:
    raw = [{"name": "take_screenshot"}, {"name": "switch_gender", "param": "male"}]
    calls = tool_calls_from_raw(raw, ["take_screenshot"])
    assert [c.name for c in calls] == ["take_screenshot"]
    assert calls[0].to_dict(0)["index"] == 0
    assert calls[0].to_dict()["function"] == {"name": "take_screenshot", "arguments": "{}"}
    gender = tool_calls_from_raw(raw, ["switch_gender"])[0]
    assert json.loads(gender.to_dict()["function"]["arguments"]) == {"param": "male"}
    assert tool_calls_from_raw("not json", ["take_screenshot"]) == []
    assert tool_calls_from_raw([], ["take_screenshot"]) == []


def test_finish_reasons() -> None:
    calls = tool_calls_from_raw([{"name": "take_screenshot"}], ["take_screenshot"])
    assert finish_reason("stop", calls) == "tool_calls"
    assert finish_reason("length", []) == "length"
    assert finish_reason("stop", []) == finish_reason(None, []) == "stop"


def test_whole_completion() -> None:
    calls = tool_calls_from_raw([{"name": "take_screenshot"}], ["take_screenshot"])
    body = CompletionIds("yap").completion("Let me look.", calls, "tool_calls", usage(10, 4))
    message = body["choices"][0]["message"]
    assert body["object"] == "chat.completion"
    assert message["content"] == "Let me look." and message["role"] == "assistant"
    assert message["tool_calls"][0]["function"]["name"] == "take_screenshot"
    assert "index" not in message["tool_calls"][0]
    assert body["usage"]["total_tokens"] == 14


def test_error_shape_and_retry_after() -> None:
    limited = errors.rate_limited(10, 60, 7)
    assert limited.status == 429 and limited.headers == {"Retry-After": "7"}
    assert set(limited.to_dict()["error"]) == {"message", "type", "param", "code"}
    assert limited.to_dict()["error"]["type"] == "rate_limit_error"
    assert errors.invalid_api_key().status == 401
    assert errors.at_capacity(2, 2).headers == {"Retry-After": "1"}
    assert errors.invalid("x").headers == {}


def test_models_list() -> None:
    assert models_list("yap", 5)["data"] == [
        {"id": "yap", "object": "model", "created": 5, "owned_by": "yap"}
    ]
