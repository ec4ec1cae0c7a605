"""The OpenAI-compatible endpoint with the official ``openai`` client, in front of the real
Triton stack (chat, screen_intent, tokenizer with the embedded models): whole and streamed
replies, usage, stop strings, max_tokens, the take_screenshot tool and its result, a client
that goes away mid-stream (seen from the engine), bad requests, auth, rate limit, capacity."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import openai
import pytest

from bridge.client import YapClient
from bridge.protocol.config import BridgeConfig
from bridge.server import BridgeApp
from ops.triton_server import TritonServer

from .helpers import metric, scrape, wait_for

pytestmark = pytest.mark.integration

KEY = "test-key-openai"
MODEL = "yap"
PERSONA = "You are Maya, a warm and witty voice assistant. Keep every reply to one short sentence."
LONG_STORY = (
    "Please tell me a very long and detailed story about a dragon who learns to bake bread."
)
SCREENSHOT_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "take_screenshot",
        "description": "Capture the user's screen.",
        "parameters": {"type": "object", "properties": {}},
    },
}
Scenario = Callable[[openai.AsyncOpenAI, BridgeApp], Awaitable[Any]]


def run_openai(triton: TritonServer, scenario: Scenario, *, key: str = KEY, **env: str) -> Any:
    """An in-process bridge with its OpenAI endpoint, and an ``AsyncOpenAI`` client for it."""

    async def main() -> Any:
        settings = {
            "TEXT_API_KEY": KEY,
            "MAX_CONCURRENT_CONNECTIONS": "8",
            "TRITON_GRPC_URL": triton.grpc_url,
            "BRIDGE_HOST": "127.0.0.1",
            "BRIDGE_PORT": "0",
            "OPENAI_PORT": "0",
            **env,
        }
        app = BridgeApp(BridgeConfig.from_env(settings))
        await app.start()
        client = openai.AsyncOpenAI(
            base_url=f"http://127.0.0.1:{app.openai_port}/v1", api_key=key, max_retries=0
        )
        try:
            return await scenario(client, app)
        finally:
            await client.close()
            await app.stop()

    return asyncio.run(main())


def chat(text: str) -> list[Any]:
    return [{"role": "system", "content": PERSONA}, {"role": "user", "content": text}]


def aborted(triton: TritonServer) -> float:
    return metric(scrape(triton.metrics_url), "vllm:request_success_total", finished_reason="abort")


def test_models_and_a_whole_reply(triton: TritonServer) -> None:
    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        models = await client.models.list()
        reply = await client.chat.completions.create(
            model=MODEL, messages=chat("hi, how are you today?"), temperature=0
        )
        return [m.id for m in models.data], reply

    models, reply = run_openai(triton, scenario)
    assert models == [MODEL]
    choice = reply.choices[0]
    assert reply.object == "chat.completion" and reply.model == MODEL
    assert choice.message.role == "assistant" and choice.message.content.strip()
    assert choice.message.tool_calls is None
    assert choice.finish_reason in ("stop", "length")
    assert choice.message.content[0].isupper()  # the output cleaner ran (§13.1 rule 13)
    usage = reply.usage
    assert usage is not None and usage.prompt_tokens > 20 and usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream_matches_the_whole_reply_and_reports_usage(triton: TritonServer) -> None:
    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        whole = await client.chat.completions.create(
            model=MODEL, messages=chat("tell me a joke about cats"), temperature=0
        )
        stream = await client.chat.completions.create(
            model=MODEL,
            messages=chat("tell me a joke about cats"),
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"include_timings": True},
        )
        chunks = [chunk async for chunk in stream]
        return whole, chunks

    whole, chunks = run_openai(triton, scenario)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1  # streamed
    assert text == whole.choices[0].message.content  # greedy: same reply both ways
    finishing = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishing[-1] == whole.choices[0].finish_reason and set(finishing[:-1]) == {None}
    assert all(c.id == chunks[0].id for c in chunks)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens == whole.usage.completion_tokens
    assert last.usage.prompt_tokens == whole.usage.prompt_tokens
    assert all(c.usage is None for c in chunks[:-1])
    # extra_body include_timings: the engine's own figures ride on the usage (the benchmark's
    # serving overhead of this door)
    timings = (last.usage.model_extra or {}).get("yap_timings") or {}
    assert timings.get("engine_ttft_ms", 0) > 0, last.usage
    assert timings.get("num_output_tokens") == last.usage.completion_tokens
    assert "yap_timings" not in (whole.usage.model_extra or {})


def test_stop_strings_and_max_tokens(triton: TritonServer) -> None:
    raw = {"sanitize_output": False}  # compare the model's own text

    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        messages = chat("describe the sea in two sentences")
        free = await client.chat.completions.create(
            model=MODEL, messages=messages, temperature=0, extra_body=raw
        )
        text = free.choices[0].message.content
        words = text.split()
        stop = " " + words[len(words) // 2]
        stopped = await client.chat.completions.create(
            model=MODEL, messages=messages, temperature=0, stop=[stop], extra_body=raw
        )
        short = await client.chat.completions.create(
            model=MODEL, messages=messages, temperature=0, max_tokens=3, extra_body=raw
        )
        return text, stop, stopped, short

    text, stop, stopped, short = run_openai(triton, scenario)
    assert stopped.choices[0].message.content == text[: text.index(stop)]
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.usage.completion_tokens < len(text.split()) + 10
    assert short.choices[0].finish_reason == "length"
    assert short.usage.completion_tokens == 3
    assert text.startswith(short.choices[0].message.content)


def test_take_screenshot_comes_first_as_a_tool_call_then_its_result(triton: TritonServer) -> None:
    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        messages = chat("take a screenshot")
        stream = await client.chat.completions.create(
            model=MODEL, messages=messages, tools=[SCREENSHOT_TOOL], stream=True
        )
        chunks = [chunk async for chunk in stream]
        no_tool = await client.chat.completions.create(
            model=MODEL, messages=chat("what's two plus two?"), tools=[SCREENSHOT_TOOL]
        )
        not_offered = await client.chat.completions.create(model=MODEL, messages=messages)
        call = next(c for c in chunks if c.choices and c.choices[0].delta.tool_calls)
        tool_call = call.choices[0].delta.tool_calls[0]
        followup = await client.chat.completions.create(
            model=MODEL,
            messages=[
                *messages,
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": tool_call.id,
                            "type": "function",
                            "function": {"name": "take_screenshot", "arguments": "{}"},
                        }
                    ],
                },
                {
                    "role": "tool",
                    "tool_call_id": tool_call.id,
                    "content": "A spreadsheet of monthly sales; March is highlighted in red.",
                },
            ],
            tools=[SCREENSHOT_TOOL],
        )
        return chunks, no_tool, not_offered, followup, app.metrics

    chunks, no_tool, not_offered, followup, metrics = run_openai(triton, scenario)
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    first_data = next(i for i, d in enumerate(deltas) if d.tool_calls or d.content)
    assert deltas[first_data].tool_calls, "the tool call must come before any text"
    call = deltas[first_data].tool_calls[0]
    assert call.function.name == "take_screenshot" and call.function.arguments == "{}"
    assert call.id.startswith("call_") and call.type == "function"
    assert any(d.content for d in deltas[first_data + 1 :])  # then the spoken text
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert no_tool.choices[0].message.tool_calls is None
    assert no_tool.choices[0].finish_reason != "tool_calls"
    assert not_offered.choices[0].message.tool_calls is None  # no tool offered: no decision
    assert followup.choices[0].message.tool_calls is None
    assert followup.choices[0].message.content.strip()
    assert metrics.tool_decision._sum.get() > 0  # the screen decision ran (the "yes" request)


def test_a_client_that_goes_away_aborts_the_engine_request(triton: TritonServer) -> None:
    before = aborted(triton)
    tokens_before = metric(scrape(triton.metrics_url), "vllm:request_generation_tokens_sum")

    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        stream = await client.chat.completions.create(
            model=MODEL, messages=chat(LONG_STORY), stream=True, max_tokens=150
        )
        received = 0
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                received += 1
                if received == 3:
                    break
        await stream.close()  # the HTTP connection closes mid-stream
        for _ in range(200):
            if not app.openai.active:
                break
            await asyncio.sleep(0.02)
        return received, len(app.openai.active), app.capacity.active

    received, active, slots = run_openai(triton, scenario)
    assert received == 3 and active == 0 and slots == 0  # the turn ended, its slot is free
    assert wait_for(lambda: aborted(triton) > before, timeout_s=10), "the engine never aborted"
    assert wait_for(
        lambda: metric(scrape(triton.metrics_url), "vllm:num_requests_running") == 0, timeout_s=5
    )
    generated = metric(scrape(triton.metrics_url), "vllm:request_generation_tokens_sum")
    generated -= tokens_before
    print(f"aborted request: {generated:.0f} tokens generated, {received} chunks received")
    assert generated < 60, "the engine kept generating for a client that left"


def test_bad_requests_get_openai_errors(triton: TritonServer) -> None:
    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        found: dict[str, openai.APIStatusError] = {}
        attempts: dict[str, dict[str, Any]] = {
            "unsupported": {"extra_body": {"audio": {"voice": "alloy"}}},
            "temperature": {"temperature": 1.9},
            "n": {"n": 2},
            "model": {"model": "gpt-4o"},
            "messages": {"messages": [{"role": "assistant", "content": "hi"}]},
            "image": {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "http://x/y"}}],
                    }
                ]
            },
        }
        for name, extra in attempts.items():
            request = {"model": MODEL, "messages": chat("hello"), **extra}
            try:
                await client.chat.completions.create(**request)
            except openai.APIStatusError as exc:
                found[name] = exc
        wrong_key = openai.AsyncOpenAI(
            base_url=str(client.base_url), api_key="wrong", max_retries=0
        )
        try:
            await wrong_key.chat.completions.create(model=MODEL, messages=chat("hello"))
        except openai.APIStatusError as exc:
            found["key"] = exc
        finally:
            await wrong_key.close()
        return found

    found = run_openai(triton, scenario)
    assert isinstance(found["unsupported"], openai.BadRequestError)
    assert "'audio'" in found["unsupported"].message
    assert found["unsupported"].code == "unsupported_parameter"
    assert isinstance(found["temperature"], openai.BadRequestError)
    assert found["temperature"].param == "temperature"
    assert "between 0.0 and 1.2" in found["temperature"].message
    assert found["n"].status_code == 400 and found["n"].param == "n"
    assert isinstance(found["model"], openai.NotFoundError)
    assert found["messages"].status_code == 400
    assert "only text content" in found["image"].message
    assert isinstance(found["key"], openai.AuthenticationError)
    for error in found.values():
        body = error.body
        assert isinstance(body, dict) and {"message", "type", "code"} <= set(body)
        assert "Traceback" not in error.message and "grpc" not in error.message.lower()


def test_rate_limit_and_capacity_answer_429(triton: TritonServer) -> None:
    async def scenario(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        statuses = []
        for _ in range(3):
            try:
                await client.chat.completions.create(model=MODEL, messages=chat("hi"), max_tokens=2)
                statuses.append((200, None))
            except openai.RateLimitError as exc:
                statuses.append((429, exc.response.headers.get("retry-after")))
        return statuses

    statuses = run_openai(triton, scenario, OPENAI_MAX_REQUESTS_PER_WINDOW="2")
    assert statuses[:2] == [(200, None), (200, None)]
    assert statuses[2][0] == 429 and int(statuses[2][1]) >= 1

    async def full(client: openai.AsyncOpenAI, app: BridgeApp) -> Any:
        url = f"ws://127.0.0.1:{app.port}/ws"
        async with await YapClient.connect(url, KEY) as socket:  # holds the only slot
            await socket.send({"type": "ping"})
            assert (await socket.recv())["type"] == "pong"  # admitted: the slot is taken
            try:
                await client.chat.completions.create(model=MODEL, messages=chat("hi"))
            except openai.RateLimitError as exc:
                return exc

    refused = run_openai(triton, full, MAX_CONCURRENT_CONNECTIONS="1")
    assert isinstance(refused, openai.RateLimitError)
    assert refused.code == "server_at_capacity" and "1/1" in refused.message
    assert refused.response.headers.get("retry-after") == "1"
