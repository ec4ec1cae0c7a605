"""The real model repository served by a real tritonserver: chat (vLLM), screen_intent,
tokenizer and the chat_turn ensemble, with the embedded default models."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request

import pytest

from bridge.triton_gateway import TritonGateway, TritonRequestError, TritonUnavailable
from ops.triton_server import TritonServer

from .helpers import (
    bool_input,
    bytes_input,
    chat_inputs,
    metric,
    scrape,
    stream_raw,
    wait_for,
    with_gateway,
)

pytestmark = pytest.mark.integration

SYSTEM = "You are Maya, a warm and witty assistant. Answer in one or two short sentences."
COMMON_WORDS = {"the", "a", "i", "you", "is", "to", "and", "it", "of", "are", "my", "in", "that"}


def english_words(text: str) -> int:
    return sum(
        1
        for word in text.lower().replace(",", " ").replace(".", " ").split()
        if word in COMMON_WORDS
    )


async def collect(gateway: TritonGateway, messages, sampling, **kwargs):  # type: ignore[no-untyped-def]
    pieces, stats = [], None
    async for delta in gateway.chat_stream(messages, sampling, **kwargs):
        pieces.append(delta.text)
        if delta.final:
            stats = delta.stats
    return pieces, stats


def test_health_and_metrics_endpoints(triton: TritonServer) -> None:
    with urllib.request.urlopen(f"{triton.http_url}/v2/health/ready", timeout=5) as reply:
        assert reply.status == 200
    with urllib.request.urlopen(f"{triton.http_url}/v2/health/live", timeout=5) as reply:
        assert reply.status == 200
    body = urllib.request.urlopen(triton.metrics_url, timeout=5).read().decode()
    assert "nv_inference_request_success" in body
    assert "vllm:num_requests_running" in body


def test_streamed_chat_reply_is_english(triton: TritonServer) -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What is a good name for a cat?"},
    ]

    pieces, stats = with_gateway(
        triton.grpc_url,
        lambda gw: collect(gw, messages, {"max_tokens": 40, "temperature": 0.0}, want_stats=True),
    )
    text = "".join(pieces)
    assert len([p for p in pieces if p]) >= 3, "the reply should arrive as several streamed deltas"
    assert len(text.split()) >= 4
    assert english_words(text) >= 1, text
    assert stats is not None and stats["num_output_tokens"] >= 4
    assert stats["num_input_tokens"] > 10
    assert stats["finish_reason"] in {"stop", "length"}


def test_two_concurrent_streams_overlap(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        async def one(question: str):  # type: ignore[no-untyped-def]
            times, pieces = [], []
            messages = [{"role": "user", "content": question}]
            async for delta in gw.chat_stream(
                messages, {"max_tokens": 30, "temperature": 0.0, "ignore_eos": True}
            ):
                times.append(time.monotonic())
                pieces.append(delta.text)
            return times, "".join(pieces)

        return await asyncio.gather(one("Tell me about the sea."), one("Tell me about mountains."))

    (times_a, text_a), (times_b, text_b) = with_gateway(triton.grpc_url, scenario)
    assert text_a and text_b and text_a != text_b
    # Both streams were producing at the same time (continuous batching), not one after the other.
    assert times_a[0] < times_b[-1] and times_b[0] < times_a[-1]


def test_cancel_mid_stream_stops_the_engine(triton: TritonServer) -> None:
    before = scrape(triton.metrics_url)
    aborted_before = metric(before, "vllm:request_success_total", finished_reason="abort")

    async def scenario(gw: TritonGateway) -> int:
        messages = [{"role": "user", "content": "Write a very long story about a dragon."}]
        stream = gw.chat_stream(
            messages, {"max_tokens": 1000, "ignore_eos": True, "temperature": 0.7}
        )
        received = 0
        async for _delta in stream:
            received += 1
            if received == 5:
                stream.cancel()
                break
        return received

    received = with_gateway(triton.grpc_url, scenario)
    assert received == 5
    # From the engine's side: the request is counted as aborted and nothing is running.
    assert wait_for(
        lambda: (
            metric(
                scrape(triton.metrics_url), "vllm:request_success_total", finished_reason="abort"
            )
            >= aborted_before + 1
        ),
        timeout_s=10,
    ), "the engine never reported the request as aborted"
    assert wait_for(
        lambda: metric(scrape(triton.metrics_url), "vllm:num_requests_running") == 0, timeout_s=5
    )
    generated = metric(scrape(triton.metrics_url), "vllm:generation_tokens_total")
    time.sleep(1.0)
    assert metric(scrape(triton.metrics_url), "vllm:generation_tokens_total") == generated, (
        "the engine kept generating after the cancel"
    )
    # 1000 tokens would take many seconds; the abort record shows how few were generated.
    after = scrape(triton.metrics_url)
    assert (
        metric(after, "vllm:request_generation_tokens_sum")
        - metric(before, "vllm:request_generation_tokens_sum")
        < 200
    )


def test_repeated_system_prompt_hits_the_prefix_cache(triton: TritonServer) -> None:
    # Longer than two CPU KV blocks (128 tokens each), so whole blocks can be reused.
    persona = (SYSTEM + " ") * 30

    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        found = []
        for question in ("Hi there!", "How are you today?"):
            messages = [
                {"role": "system", "content": persona},
                {"role": "user", "content": question},
            ]
            _, stats = await collect(gw, messages, {"max_tokens": 4}, want_stats=True)
            found.append(stats)
        return found

    first, second = with_gateway(triton.grpc_url, scenario)
    assert second["num_input_tokens"] > 256
    assert second["num_cached_tokens"] >= 128, (first, second)
    values = scrape(triton.metrics_url)
    assert metric(values, "vllm:prefix_cache_hits_total") >= 128


# One line per policy rule family (serving/screen_intent/POLICY.md); quality as a whole is
# measured by `python -m serving.screen_intent.evaluate`, this checks the served decisions.
POSITIVES = [
    "can you take a look at my screen?",
    "grab one screenshot for me",
    "what do you think of this outfit?",
    "is this email ok to send?",
]
NEGATIVES = [
    "what's up",
    "what's the best monitor to buy",
    "take five screenshots of my feed",  # no-1: a count other than one
    "don't look at my screen right now",  # no-2: negation
    "I looked at my monitor all night yesterday",  # no-3: past
    "take a selfie of me",  # no-5: camera
]


def test_screen_intent_decisions(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        return [await gw.classify(text, []) for text in POSITIVES + NEGATIVES]

    results = with_gateway(triton.grpc_url, scenario)
    decisions = [decision for _, decision in results]
    assert decisions[: len(POSITIVES)] == [True] * len(POSITIVES), list(
        zip(POSITIVES + NEGATIVES, results)
    )
    assert decisions[len(POSITIVES) :] == [False] * len(NEGATIVES), list(
        zip(POSITIVES + NEGATIVES, results)
    )
    for probability, decision in results:
        assert 0.0 <= probability <= 1.0
        assert decision == (probability >= 0.66)


def test_screen_intent_policy_veto_is_served(triton: TritonServer) -> None:
    """The shipped model alone says yes to these several-screens requests (p 0.995 and 0.889);
    the coded no-1 veto, on by default in the model's config, makes the served answer no."""
    lines = [
        "take a screenshot of my desktop and my phone screen",
        "grab a screenshot of my laptop and my tablet",
    ]

    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        return [await gw.classify(text, []) for text in lines]

    results = with_gateway(triton.grpc_url, scenario)
    assert [decision for _, decision in results] == [False, False], results
    assert any(p >= 0.66 for p, _ in results), (
        f"the model no longer says yes to these lines ({results}): pick lines it does, or "
        "this test checks nothing"
    )


# (earlier user lines, utterance, expected): the context changes a short line's answer, and the
# capture marks the bridge sends ({"text", "captured"}) tell a follow-up about what was just
# captured (no) from a new item (yes), policy rule yes-4.
SHOPPING = [{"text": "browsing sneakers on the nike app", "captured": False}]
CAPTURED_DRESS = [{"text": "check out this dress", "captured": True}]
CONVERSATIONS: list[tuple[list, str, bool]] = [
    # a new item on the device asks for a new look; a reaction to the one just captured does not
    (
        [*SHOPPING, {"text": "ooh these are clean", "captured": True}],
        "wait this one's better",
        True,
    ),
    ([*SHOPPING, {"text": "ooh these are clean", "captured": True}], "lol", False),
    (["so last weekend we drove up to the lake", "my cousin brought his new boat"], "lol", False),
    (CAPTURED_DRESS, "is it too short?", False),
    (CAPTURED_DRESS, "ok what about this one", True),
    (
        [{"text": "read this message from my boss", "captured": True}],
        "so what should I reply?",
        False,
    ),
    ([{"text": "look at my screen", "captured": True}], "what's the capital of France?", False),
    (["what's the capital of France?"], "look at my screen again", True),
]


def test_screen_intent_uses_the_earlier_user_lines(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        return [await gw.classify(text, context) for context, text, _ in CONVERSATIONS]

    results = with_gateway(triton.grpc_url, scenario)
    got = [decision for _, decision in results]
    assert got == [expected for *_, expected in CONVERSATIONS], list(zip(CONVERSATIONS, results))


@pytest.mark.xfail(
    strict=True,
    reason="known gap (serving/screen_intent/data/README.md): a bare reaction while the user is "
    "browsing, before any capture, scores under the threshold (p 0.04 to 0.25); yes-4 says yes",
)
def test_screen_intent_bare_reaction_while_browsing(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        return [await gw.classify(text, SHOPPING) for text in ("no way", "lol")]

    results = with_gateway(triton.grpc_url, scenario)
    assert [decision for _, decision in results] == [True, True], results


def test_screen_intent_dynamic_batching_shows_in_statistics(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        texts = [f"{text} ({i})" for i in range(8) for text in POSITIVES + NEGATIVES]
        await asyncio.gather(*(gw.classify(text, ["hello"]) for text in texts))
        return await gw.client.get_inference_statistics("screen_intent", as_json=True)

    stats = with_gateway(triton.grpc_url, scenario)
    batch_sizes = [int(entry["batch_size"]) for entry in stats["model_stats"][0]["batch_stats"]]
    assert max(batch_sizes) > 1, f"no request was batched: {batch_sizes}"


def test_tokenizer_counts_and_truncates(triton: TritonServer) -> None:
    text = "one two three four five six seven eight nine ten"

    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        return (
            await gw.measure([text, "", "hello"], 0),
            await gw.measure([text], 3, "head"),
            await gw.measure([text], 3, "tail"),
        )

    counted, head, tail = with_gateway(triton.grpc_url, scenario)
    assert counted[0][0] == 10 and counted[1][0] == 0 and counted[2][0] == 1
    assert counted[0][1] == text
    assert head[0] == (10, "one two three")
    assert tail[0] == (10, " eight nine ten")


def test_chat_turn_ensemble_streams_a_whole_turn(triton: TritonServer) -> None:
    inputs = [
        bytes_input("system_prompt", SYSTEM),
        bytes_input("history_text", "User: hi\nAssistant: Hello! How can I help?"),
        bytes_input("user_utterance", "What is the capital of France?"),
        bytes_input("sampling_parameters", json.dumps({"max_tokens": 24, "temperature": 0.0})),
    ]
    results, errors = asyncio.run(stream_raw(triton.grpc_url, "chat_turn", inputs))
    assert not errors, errors
    text = "".join(r.as_numpy("text_output").reshape(-1)[0].decode() for r in results)
    assert len(results) >= 3 and len(text.split()) >= 3, text


def test_chat_turn_ensemble_applies_the_turn_ranges(triton: TritonServer) -> None:
    """The ensemble applies the bridge's ranges (CHAT_<KEY>_MIN/_MAX), not just the engine's."""
    inputs = [
        bytes_input("system_prompt", SYSTEM),
        bytes_input("history_text", ""),
        bytes_input("user_utterance", "hi"),
        bytes_input("sampling_parameters", json.dumps({"temperature": 1.9})),
    ]
    results, errors = asyncio.run(stream_raw(triton.grpc_url, "chat_turn", inputs))
    assert not results
    assert errors and "temperature must be between 0.0 and 1.2" in str(errors[0]), errors


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ([bool_input("stream", True)], "either 'text_input' or 'messages' is required"),
        (
            [
                bytes_input("text_input", "hi"),
                bool_input("stream", True),
                bytes_input("sampling_parameters", "{not json"),
            ],
            "sampling_parameters is not valid JSON",
        ),
        (
            [
                bytes_input("text_input", "hi"),
                bool_input("stream", True),
                bytes_input("sampling_parameters", '{"temperature": "hot"}'),
            ],
            "sampling parameter 'temperature' must be a number",
        ),
        (
            [
                bytes_input("text_input", "hi"),
                bool_input("stream", True),
                bytes_input("sampling_parameters", '{"top_q": 1}'),
            ],
            "unknown sampling parameter 'top_q'",
        ),
        (
            chat_inputs([{"role": "wizard", "content": "hi"}], {}),
            "messages[0].role must be one of",
        ),
        (
            [bytes_input("text_input", "word " * 6000), bool_input("stream", True)],
            "this model accepts at most",
        ),
    ],
    ids=["missing-input", "bad-json", "wrong-type", "unknown-key", "bad-role", "prompt-too-long"],
)
def test_bad_chat_requests_get_clear_errors(triton: TritonServer, inputs, expected: str) -> None:  # type: ignore[no-untyped-def]
    results, errors = asyncio.run(stream_raw(triton.grpc_url, "chat", inputs))
    assert not results
    assert errors and expected in errors[0], errors
    assert triton.is_ready()


def test_unknown_model_and_server_stays_up(triton: TritonServer) -> None:
    async def scenario(gw: TritonGateway):  # type: ignore[no-untyped-def]
        gw.intent_model = "no_such_model"
        with pytest.raises((TritonUnavailable, TritonRequestError)) as caught:
            await gw.classify("hello", [])
        return str(caught.value)

    message = with_gateway(triton.grpc_url, scenario)
    assert "no_such_model" in message or "unknown model" in message.lower()
    assert triton.is_ready()
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{triton.http_url}/v2/models/no_such_model/ready", timeout=5)


def test_cancel_through_the_ensemble_does_not_reach_the_engine(triton: TritonServer) -> None:
    """Measured limitation of Triton 24.10 (documented in the README): cancelling a stream to
    the chat_turn ensemble does not cancel its chat step, so the engine generates to the end.
    The bridge therefore calls the chat model directly. If this starts failing, Triton now
    propagates the cancel: update the README."""
    before = scrape(triton.metrics_url)
    inputs = [
        bytes_input("system_prompt", "You are a storyteller."),
        bytes_input("history_text", ""),
        bytes_input("user_utterance", "Tell me a very long story about a dragon."),
        bytes_input("sampling_parameters", json.dumps({"max_tokens": 80, "ignore_eos": True})),
    ]

    async def scenario() -> None:
        import tritonclient.grpc.aio as grpcclient

        client = grpcclient.InferenceServerClient(triton.grpc_url)

        async def requests():  # type: ignore[no-untyped-def]
            yield {"model_name": "chat_turn", "inputs": inputs}

        stream = client.stream_infer(requests())
        received = 0
        async for _result, _error in stream:
            received += 1
            if received == 3:
                stream.cancel()
                break
        await client.close()

    asyncio.run(scenario())

    def finished() -> bool:
        now = scrape(triton.metrics_url)
        return metric(now, "vllm:request_success_total") > metric(
            before, "vllm:request_success_total"
        )

    assert wait_for(finished, timeout_s=30)
    after = scrape(triton.metrics_url)
    reasons = {
        reason: metric(after, "vllm:request_success_total", finished_reason=reason)
        - metric(before, "vllm:request_success_total", finished_reason=reason)
        for reason in ("length", "abort")
    }
    assert reasons == {"length": 1.0, "abort": 0.0}, reasons
    generated = metric(after, "vllm:generation_tokens_total") - metric(
        before, "vllm:generation_tokens_total"
    )
    assert generated >= 80


def test_abort_control_request_stops_a_named_request(triton: TritonServer) -> None:
    """``abort_request_id`` stops the request with that Triton request id at once, without
    waiting for the cancellation poll; an unknown id aborts nothing; an empty id is an error."""
    before = scrape(triton.metrics_url)

    async def scenario() -> tuple[int, list[str], list[str]]:
        import tritonclient.grpc.aio as grpcclient

        client = grpcclient.InferenceServerClient(triton.grpc_url)
        inputs = chat_inputs(
            [{"role": "user", "content": "Write a very long story."}],
            {"max_tokens": 400, "ignore_eos": True},
        )

        async def requests():  # type: ignore[no-untyped-def]
            yield {"model_name": "chat", "inputs": inputs, "request_id": "story-123"}

        received = 0
        async for _result, error in client.stream_infer(requests()):
            assert error is None
            received += 1
            if received == 3:
                results, errors = await stream_raw(
                    triton.grpc_url, "chat", [bytes_input("abort_request_id", "story-123")]
                )
                unknown, _ = await stream_raw(
                    triton.grpc_url, "chat", [bytes_input("abort_request_id", "nobody")]
                )
                _, empty_errors = await stream_raw(
                    triton.grpc_url, "chat", [bytes_input("abort_request_id", " ")]
                )
                reasons = [
                    r.as_numpy("text_output").reshape(-1)[0].decode() for r in results + unknown
                ]
                assert not errors
                break
        await client.close()
        return received, reasons, empty_errors

    received, reasons, empty_errors = asyncio.run(scenario())
    assert received == 3 and reasons == ["", ""]
    assert empty_errors and "abort_request_id must name" in empty_errors[0]
    assert wait_for(
        lambda: (
            metric(
                scrape(triton.metrics_url), "vllm:request_success_total", finished_reason="abort"
            )
            > metric(before, "vllm:request_success_total", finished_reason="abort")
        ),
        timeout_s=5,
    )
    generated = metric(scrape(triton.metrics_url), "vllm:generation_tokens_total") - metric(
        before, "vllm:generation_tokens_total"
    )
    # Of 400 tokens asked for. The bound leaves room for the three control streams opened before
    # the abort lands (26 tokens were seen once on a loaded 2-core machine against a bound of 20).
    assert generated < 60, f"{generated} tokens generated for a request aborted after 3"
