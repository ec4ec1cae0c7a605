"""Side-by-side latency benchmark: the same prompts, in one run, on three paths.

(a) client -> bridge (WebSocket) -> Triton -> vLLM, (b) a direct gRPC stream to Triton's chat
model, (c) vLLM in-process with no server (the floor, the same ``ChatEngine`` the chat model
runs). For each path and concurrency it reports the client's time to first token, the engine's
own TTFT for the same requests (vLLM measures it from the moment the request reaches it), and
their difference: the serving overhead. Extras: cold vs warm turn (prefix cache), tool-first
TTFT sequential vs speculative (``CONCURRENT_MODEL_CALL``), and what a cancel leaves running.

    python -m bench                # full run: concurrency 1, 4, 16; table, JSON and PNG chart
    python -m bench --quick        # under a minute: concurrency 1 and 2, few requests
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.loadgen import PERSONA, UTTERANCES, percentile
from bench.machine import describe, machine_facts
from common import paths

RESULTS_DIR = paths.REPO_ROOT / "bench" / "results"
MAX_TOKENS = 24
PATHS = ("a_bridge", "a_openai", "b_grpc", "c_inprocess")


@dataclass
class Sample:
    path: str
    concurrency: int
    ttft_ms: float
    engine_ttft_ms: float | None
    total_ms: float
    tokens: int
    #: Where the TTFT went (ms), from the chat model's wall-clock timeline; see ``phases``.
    phases: dict[str, float] | None = None

    @property
    def overhead_ms(self) -> float | None:
        return None if self.engine_ttft_ms is None else self.ttft_ms - self.engine_ttft_ms

    @property
    def decode_tok_s(self) -> float | None:
        """Tokens after the first per second of the rest of the stream."""
        rest = self.total_ms - self.ttft_ms
        return (self.tokens - 1) / (rest / 1000.0) if self.tokens > 1 and rest > 0 else None


@dataclass
class Results:
    samples: list[Sample] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def select(self, path: str, concurrency: int) -> list[Sample]:
        return [s for s in self.samples if s.path == path and s.concurrency == concurrency]


#: The TTFT split by the chat model's wall-clock marks (one machine, so the clocks agree):
#: inbound (client send -> the model hands the request to its engine loop), prompt (rendering,
#: tokenizing and the engine loop until vLLM's own clock starts), engine (vLLM's first-token
#: latency), send (first output -> the model's response sender returned), outbound (-> the
#: client reads the first text).
PHASES = ("inbound", "prompt", "engine", "send", "outbound")
_WALL_OFFSET = time.time() - time.perf_counter()


def phases_of(sent_perf: float, first_ms: float, stats: dict[str, Any]) -> dict[str, float] | None:
    """``PHASES`` of one request sent at ``sent_perf`` (perf_counter) whose first text arrived
    ``first_ms`` later, or None when the model's stats carry no timeline."""
    timeline = stats.get("timeline") or {}
    try:
        submitted = float(timeline["submitted"])
        first_output = float(timeline["first_output"])
        first_sent = float(timeline["first_sent"])
        model_ttft = float(stats["model_ttft_ms"])
        engine_ttft = float(stats["engine_ttft_ms"])
    except (KeyError, TypeError, ValueError):
        return None
    sent_wall = _WALL_OFFSET + sent_perf
    first_wall = sent_wall + first_ms / 1000.0
    return {
        "inbound": (submitted - sent_wall) * 1000.0,
        "prompt": model_ttft - engine_ttft,
        "engine": engine_ttft,
        "send": (first_sent - first_output) * 1000.0,
        "outbound": (first_wall - first_sent) * 1000.0,
    }


def messages_for(index: int, nonce: str) -> list[dict[str, str]]:
    # A unique first line per request: every request is cold (no prefix-cache help).
    return [
        {"role": "system", "content": f"(request {nonce}-{index}) {PERSONA}"},
        {"role": "user", "content": UTTERANCES[index % len(UTTERANCES)]},
    ]


SAMPLING = {"max_tokens": MAX_TOKENS, "temperature": 0.0, "ignore_eos": True}


# -- (a) through the bridge -------------------------------------------------------------------
async def bridge_requests(
    url: str, key: str, concurrency: int, count: int, nonce: str
) -> list[Sample]:
    from bridge.client import YapClient

    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Sample:
        async with gate:
            messages = messages_for(index, nonce)
            async with await YapClient.connect(url, key) as client:
                message = YapClient.start_message(
                    f"bench-{nonce}-{index}",
                    messages[1]["content"],
                    chat_prompt=messages[0]["content"],
                    sampling={"temperature": 0.0},
                    include_timings=True,
                )
                result = await client.turn(message)
            if result.error is not None or result.first_token_ms is None:
                raise RuntimeError(f"bridge turn failed: {result.error}")
            timings = (result.done or {}).get("timings") or {}
            return Sample(
                "a_bridge",
                concurrency,
                result.first_token_ms,
                timings.get("engine_ttft_ms"),
                result.total_ms or 0.0,
                int(timings.get("num_output_tokens") or len(result.tokens)),
                phases_of(result.sent_at, result.first_token_ms, timings),
            )

    return list(await asyncio.gather(*(one(i) for i in range(count))))


# -- (a') through the bridge's OpenAI door -----------------------------------------------------
async def openai_requests(
    base_url: str, key: str, concurrency: int, count: int, nonce: str
) -> list[Sample]:
    import openai

    client = openai.AsyncOpenAI(base_url=base_url, api_key=key, max_retries=0)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Sample:
        async with gate:
            started = time.perf_counter()
            first = None
            tokens = 0
            timings: dict[str, Any] = {}
            stream = await client.chat.completions.create(  # type: ignore[call-overload]
                model="yap",
                messages=messages_for(index, nonce),
                temperature=0.0,
                max_tokens=MAX_TOKENS,
                stream=True,
                stream_options={"include_usage": True},
                extra_body={"include_timings": True},
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    tokens += 1
                    if first is None:
                        first = (time.perf_counter() - started) * 1000.0
                if chunk.usage is not None:
                    timings = (chunk.usage.model_extra or {}).get("yap_timings") or {}
                    tokens = chunk.usage.completion_tokens or tokens
            if first is None:
                raise RuntimeError("openai completion streamed no text")
            return Sample(
                "a_openai",
                concurrency,
                first,
                timings.get("engine_ttft_ms"),
                (time.perf_counter() - started) * 1000.0,
                tokens,
                phases_of(started, first, timings),
            )

    try:
        return list(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        await client.close()


# -- (b) direct gRPC --------------------------------------------------------------------------
async def grpc_requests(grpc_url: str, concurrency: int, count: int, nonce: str) -> list[Sample]:
    from bridge.triton_gateway import TritonGateway

    gateway = TritonGateway(grpc_url, timeout_s=120)
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int) -> Sample:
        async with gate:
            started = time.perf_counter()
            first = None
            stats: dict[str, Any] = {}
            tokens = 0
            async for delta in gateway.chat_stream(
                messages_for(index, nonce), SAMPLING, want_stats=True
            ):
                if first is None and delta.text:
                    first = (time.perf_counter() - started) * 1000.0
                tokens += 1
                if delta.final:
                    stats = delta.stats or {}
            assert first is not None
            return Sample(
                "b_grpc",
                concurrency,
                first,
                stats.get("engine_ttft_ms"),
                (time.perf_counter() - started) * 1000.0,
                tokens,
                phases_of(started, first, stats),
            )

    try:
        return list(await asyncio.gather(*(one(i) for i in range(count))))
    finally:
        await gateway.close()


# -- (c) vLLM in-process ----------------------------------------------------------------------
class _Collector:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.started = time.perf_counter()
        self.first: float | None = None
        self.tokens = 0
        self.done: asyncio.Future[dict[str, Any]] = loop.create_future()

    def _mark(self, delta: Any) -> None:
        if self.first is None and delta.text:
            self.first = (time.perf_counter() - self.started) * 1000.0
        self.tokens += 1

    def send(self, delta: Any) -> None:
        self._mark(delta)

    def finish(self, final: Any) -> None:
        self._mark(final)
        stats = dict(final.stats or {})
        self.loop.call_soon_threadsafe(self.done.set_result, stats)

    def fail(self, message: str, kind: str = "invalid") -> None:
        self.loop.call_soon_threadsafe(self.done.set_exception, RuntimeError(message))

    def is_cancelled(self) -> bool:
        return False


async def inprocess_requests(engine: Any, concurrency: int, count: int, nonce: str) -> list[Sample]:
    import numpy as np

    from serving.chat.request import parse_request

    gate = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()

    async def one(index: int) -> Sample:
        async with gate:
            request = parse_request(
                {
                    "messages": np.array(
                        [json.dumps(messages_for(index, nonce)).encode()], dtype=object
                    ),
                    "stream": np.array([True]),
                    "sampling_parameters": np.array([json.dumps(SAMPLING).encode()], dtype=object),
                },
                "",
                default_max_tokens=MAX_TOKENS,
            )
            sink = _Collector(loop)
            engine.submit(request, sink)
            stats = await sink.done
            assert sink.first is not None
            return Sample(
                "c_inprocess",
                concurrency,
                sink.first,
                stats.get("engine_ttft_ms"),
                (time.perf_counter() - sink.started) * 1000.0,
                sink.tokens,
                phases_of(sink.started, sink.first, stats),
            )

    return list(await asyncio.gather(*(one(i) for i in range(count))))


# -- extras -----------------------------------------------------------------------------------
async def cold_vs_warm(url: str, key: str, rounds: int) -> dict[str, Any]:
    """Two turns per session: the second reuses persona + history from the prefix cache."""
    from bridge.client import YapClient

    long_persona = " ".join([PERSONA] * 4)  # > 2 KV blocks of 128 tokens, so blocks can be reused
    cold: list[dict[str, Any]] = []
    warm: list[dict[str, Any]] = []
    for index in range(rounds):
        session = f"warm-{uuid.uuid4().hex[:8]}"
        persona = f"(conversation {session}) {long_persona}"
        async with await YapClient.connect(url, key) as client:
            first = await client.turn(
                YapClient.start_message(
                    session,
                    UTTERANCES[index % 8],
                    chat_prompt=persona,
                    sampling={"temperature": 0.0},
                    include_timings=True,
                )
            )
            second = await client.turn(
                YapClient.start_message(
                    session,
                    "tell me more",
                    chat_prompt=persona,
                    sampling={"temperature": 0.0},
                    include_timings=True,
                )
            )
        for bucket, result in ((cold, first), (warm, second)):
            timings = (result.done or {}).get("timings") or {}
            bucket.append(
                {
                    "ttft_ms": result.first_token_ms,
                    "cached_tokens": timings.get("num_cached_tokens"),
                    "prompt_tokens": timings.get("num_input_tokens"),
                }
            )
    return {
        "cold_ttft_ms_p50": statistics.median(r["ttft_ms"] for r in cold),
        "warm_ttft_ms_p50": statistics.median(r["ttft_ms"] for r in warm),
        "warm_cached_tokens_p50": statistics.median(r["cached_tokens"] or 0 for r in warm),
        "warm_prompt_tokens_p50": statistics.median(r["prompt_tokens"] or 0 for r in warm),
        "rounds": rounds,
    }


async def tool_first(url: str, key: str, rounds: int) -> dict[str, Any]:
    """TTFT of a both-mode turn (toolcall first), and when the toolcall frame arrived."""
    from bridge.client import YapClient

    ttft, tool = [], []
    async with await YapClient.connect(url, key) as client:
        for index in range(rounds):
            session = f"tool-{uuid.uuid4().hex[:8]}"
            result = await client.turn(
                YapClient.start_message(
                    session,
                    UTTERANCES[index % len(UTTERANCES)],
                    chat_prompt=f"({session}) {PERSONA}",
                    sampling={"temperature": 0.0},
                )
            )
            if result.error is None and result.first_token_ms is not None:
                ttft.append(result.first_token_ms)
                tool.append(result.toolcall_ms or 0.0)
    return {
        "ttft_ms_p50": statistics.median(ttft),
        "ttft_ms_p95": percentile(ttft, 95),
        "toolcall_ms_p50": statistics.median(tool),
        "rounds": len(ttft),
    }


def _scrape(metrics_url: str) -> dict[str, float]:
    import urllib.request

    body = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    values: dict[str, float] = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            series, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[series] = float(value)
    return values


def _sum(values: dict[str, float], name: str) -> float:
    return sum(v for k, v in values.items() if k.split("{", 1)[0] == name)


async def measure_cancel(url: str, key: str, metrics_url: str, rounds: int) -> dict[str, Any]:
    from bridge.client import YapClient

    wasted, idle_ms, received = [], [], []
    loop = asyncio.get_running_loop()
    for index in range(rounds):
        before = await loop.run_in_executor(None, _scrape, metrics_url)
        async with await YapClient.connect(url, key) as client:
            await client.send(
                YapClient.start_message(
                    f"cancel-{uuid.uuid4().hex[:8]}",
                    "tell me a very long story about the sea",
                    chat_prompt=f"({index}) {PERSONA}",
                    sampling={"temperature": 0.7},
                )
            )
            tokens = 0
            while tokens < 3:
                frame = await client.recv()
                tokens += frame.get("type") == "token"
            cancelled_at = time.perf_counter()
            await client.send({"type": "cancel"})
            while (await client.recv()).get("cancelled") is not True:
                pass
            idle_at = None
            for _ in range(200):
                now = await loop.run_in_executor(None, _scrape, metrics_url)
                if _sum(now, "vllm:num_requests_running") == 0 and _sum(
                    now, "vllm:request_success_total"
                ) > _sum(before, "vllm:request_success_total"):
                    idle_at = time.perf_counter()
                    break
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.3)
            after = await loop.run_in_executor(None, _scrape, metrics_url)
        generated = _sum(after, "vllm:generation_tokens_total") - _sum(
            before, "vllm:generation_tokens_total"
        )
        received.append(tokens)
        wasted.append(generated - tokens)
        idle_ms.append(None if idle_at is None else (idle_at - cancelled_at) * 1000.0)
    clean = [v for v in idle_ms if v is not None]
    return {
        "rounds": rounds,
        "tokens_received_before_cancel": received,
        "tokens_generated_not_delivered": wasted,
        "cancel_to_idle_ms": idle_ms,
        "cancel_to_idle_ms_p50": statistics.median(clean) if clean else None,
    }


# -- orchestration ----------------------------------------------------------------------------
def _free_key() -> str:
    return uuid.uuid4().hex


async def _served_paths(levels: Sequence[int], count: int, quick: bool, results: Results) -> None:
    from ops.stack import BridgeProcess
    from ops.triton_server import DEPLOY_MODES, TritonServer, free_port

    key = _free_key()
    with TritonServer(models=DEPLOY_MODES["both"]) as triton:
        base = {
            "TEXT_API_KEY": key,
            "MAX_CONCURRENT_CONNECTIONS": "64",
            "TRITON_GRPC_URL": triton.grpc_url,
            "BRIDGE_LOG_LEVEL": "WARNING",
            "WS_MAX_MESSAGES_PER_WINDOW": "0",
            "OPENAI_PORT": "-1",
            "OPENAI_MAX_REQUESTS_PER_WINDOW": "0",
        }
        openai_port = free_port()
        bridges = {
            "chat": BridgeProcess(
                {**base, "DEPLOY_MODELS": "chat", "OPENAI_PORT": str(openai_port)},
                log_path=paths.STATE_DIR / "logs" / "bench-bridge-chat.log",
            ),
            "both": BridgeProcess(
                {**base, "DEPLOY_MODELS": "both"},
                log_path=paths.STATE_DIR / "logs" / "bench-bridge-both.log",
            ),
            "spec": BridgeProcess(
                {**base, "DEPLOY_MODELS": "both", "CONCURRENT_MODEL_CALL": "1"},
                log_path=paths.STATE_DIR / "logs" / "bench-bridge-spec.log",
            ),
        }
        try:
            for bridge in bridges.values():
                bridge.start()
            url = {name: f"ws://127.0.0.1:{b.port}/ws" for name, b in bridges.items()}
            openai_url = f"http://127.0.0.1:{openai_port}/v1"
            # Warm-up: first requests pay one-time costs (tokenizer caches, gRPC channels).
            await grpc_requests(triton.grpc_url, 1, 2, "warmup")
            await bridge_requests(url["chat"], key, 1, 2, "warmup")
            await openai_requests(openai_url, key, 1, 2, "warmup")
            for level in levels:
                nonce = uuid.uuid4().hex[:6]
                print(
                    f"[bench] concurrency {level}: bridge, OpenAI door and gRPC, {count} "
                    "requests each",
                    file=sys.stderr,
                    flush=True,
                )
                results.samples += await bridge_requests(
                    url["chat"], key, level, count, nonce + "a"
                )
                results.samples += await openai_requests(openai_url, key, level, count, nonce + "o")
                results.samples += await grpc_requests(triton.grpc_url, level, count, nonce + "b")
            rounds = 3 if quick else 8
            print(
                "[bench] extras: cold/warm, tool-first sequential vs speculative, cancel",
                file=sys.stderr,
                flush=True,
            )
            results.extras["cold_vs_warm"] = await cold_vs_warm(url["chat"], key, rounds)
            results.extras["tool_first_sequential"] = await tool_first(url["both"], key, rounds)
            results.extras["tool_first_speculative"] = await tool_first(url["spec"], key, rounds)
            results.extras["cancel"] = await measure_cancel(
                url["chat"], key, triton.metrics_url, rounds
            )
        finally:
            for bridge in bridges.values():
                bridge.stop()


async def _inprocess_path(levels: Sequence[int], count: int, results: Results) -> None:
    from serving.chat.config import ChatConfig
    from serving.chat.engine import ChatEngine, prepare_process

    config = ChatConfig.resolve({}, os.environ, device="cpu")
    prepare_process(config, device="cpu")
    engine = ChatEngine(config)
    engine.start()
    try:
        await inprocess_requests(engine, 1, 2, "warmup")
        for level in levels:
            print(
                f"[bench] concurrency {level}: vLLM in-process, {count} requests",
                file=sys.stderr,
                flush=True,
            )
            results.samples += await inprocess_requests(
                engine, level, count, uuid.uuid4().hex[:6] + "c"
            )
    finally:
        engine.stop()


def summarize(results: Results, levels: Sequence[int]) -> list[dict[str, Any]]:
    rows = []
    for level in levels:
        floor = [s.ttft_ms for s in results.select("c_inprocess", level)]
        floor_p50 = statistics.median(floor) if floor else None
        floor_decode = [d for s in results.select("c_inprocess", level) if (d := s.decode_tok_s)]
        floor_decode_p50 = statistics.median(floor_decode) if floor_decode else None
        for path in PATHS:
            chosen = results.select(path, level)
            if not chosen:
                continue
            ttft = [s.ttft_ms for s in chosen]
            engine = [s.engine_ttft_ms for s in chosen if s.engine_ttft_ms is not None]
            overhead = [s.overhead_ms for s in chosen if s.overhead_ms is not None]
            decode = [d for s in chosen if (d := s.decode_tok_s)]
            decode_p50 = statistics.median(decode) if decode else None
            split = [s.phases for s in chosen if s.phases]
            phases = (
                {name: statistics.median(p[name] for p in split) for name in PHASES}
                if split
                else None
            )
            rows.append(
                {
                    "path": path,
                    "concurrency": level,
                    "n": len(chosen),
                    "ttft_p50": statistics.median(ttft),
                    "ttft_p95": percentile(ttft, 95),
                    "engine_ttft_p50": statistics.median(engine) if engine else None,
                    "overhead_p50": statistics.median(overhead) if overhead else None,
                    "overhead_p95": percentile(overhead, 95) if overhead else None,
                    "ratio_to_floor": (statistics.median(ttft) / floor_p50) if floor_p50 else None,
                    "decode_tok_s_p50": decode_p50,
                    "decode_ratio_to_floor": (
                        decode_p50 / floor_decode_p50 if decode_p50 and floor_decode_p50 else None
                    ),
                    "phases_p50": phases,
                }
            )
    return rows


def markdown(rows: list[dict[str, Any]], extras: dict[str, Any], meta: dict[str, Any]) -> str:
    names = {
        "a_bridge": "(a) WebSocket -> bridge -> Triton",
        "a_openai": "(a') OpenAI SSE -> bridge -> Triton",
        "b_grpc": "(b) gRPC -> Triton",
        "c_inprocess": "(c) vLLM in-process",
    }

    def f(value: Any) -> str:
        return "-" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)

    lines = [
        f"Measured {meta['date']} on {meta['machine']}; model {meta['model']}, "
        f"{MAX_TOKENS} output tokens, unique prompts (cold prefix cache), temperature 0.",
        "",
        "| path | concurrency | n | TTFT p50 ms | TTFT p95 ms | engine TTFT p50 ms "
        "| serving overhead p50 ms | overhead p95 ms | TTFT / (c) | decode tok/s p50 "
        "| decode / (c) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = "-" if row["ratio_to_floor"] is None else f"{row['ratio_to_floor']:.2f}"
        decode_ratio = row.get("decode_ratio_to_floor")
        decode_text = "-" if decode_ratio is None else f"{decode_ratio:.2f}"
        lines.append(
            f"| {names[row['path']]} | {row['concurrency']} | {row['n']} "
            f"| {f(row['ttft_p50'])} | {f(row['ttft_p95'])} | {f(row['engine_ttft_p50'])} "
            f"| {f(row['overhead_p50'])} | {f(row['overhead_p95'])} | {ratio} "
            f"| {f(row.get('decode_tok_s_p50'))} | {decode_text} |"
        )
    split = [row for row in rows if row.get("phases_p50")]
    if split:
        lines += [
            "",
            "Where the time to first token goes (p50 of each phase, ms; wall-clock marks of the "
            "chat model): inbound = client send to the model handing the request to its engine "
            "loop; prompt = rendering and tokenizing until vLLM's clock starts; engine = vLLM's "
            "first-token latency; send = first output to the response sender's return; "
            "outbound = to the client reading the first text.",
            "",
            "| path | concurrency | " + " | ".join(PHASES) + " |",
            "|---|---|" + "---|" * len(PHASES),
        ]
        for row in split:
            phases = row["phases_p50"]
            lines.append(
                f"| {names[row['path']]} | {row['concurrency']} | "
                + " | ".join(f(phases[name]) for name in PHASES)
                + " |"
            )
    if extras:
        cw = extras.get("cold_vs_warm", {})
        seq, spec = (
            extras.get("tool_first_sequential", {}),
            extras.get("tool_first_speculative", {}),
        )
        cancel = extras.get("cancel", {})
        lines += [
            "",
            f"- Warm turn (persona + history in the prefix cache, "
            f"{f(cw.get('warm_cached_tokens_p50'))} of {f(cw.get('warm_prompt_tokens_p50'))} "
            f"prompt tokens cached): TTFT p50 {f(cw.get('warm_ttft_ms_p50'))} ms "
            f"vs cold {f(cw.get('cold_ttft_ms_p50'))} ms.",
            f"- Tool first (deploy mode both): TTFT p50 {f(seq.get('ttft_ms_p50'))} ms sequential, "
            f"{f(spec.get('ttft_ms_p50'))} ms with CONCURRENT_MODEL_CALL=1; toolcall frame at p50 "
            f"{f(seq.get('toolcall_ms_p50'))} ms.",
            f"- Cancel after 3 tokens: tokens generated but never delivered per cancel "
            f"{cancel.get('tokens_generated_not_delivered')}; cancel to engine idle p50 "
            f"{f(cancel.get('cancel_to_idle_ms_p50'))} ms.",
        ]
    return "\n".join(lines)


def chart(rows: list[dict[str, Any]], levels: Sequence[int], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths_ = list(PATHS)
    labels = {
        "a_bridge": "WS->bridge->Triton",
        "a_openai": "OpenAI->bridge->Triton",
        "b_grpc": "gRPC->Triton",
        "c_inprocess": "vLLM in-process",
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(paths_)
    for offset, path in enumerate(paths_):
        xs, ttft, overhead = [], [], []
        for index, level in enumerate(levels):
            row = next((r for r in rows if r["path"] == path and r["concurrency"] == level), None)
            if row is None:
                continue
            xs.append(index + (offset - (len(paths_) - 1) / 2) * width)
            ttft.append(row["ttft_p50"])
            overhead.append(row["overhead_p50"] or 0.0)
        left.bar(xs, ttft, width, label=labels[path])
        right.bar(xs, overhead, width, label=labels[path])
    for axis, title in (
        (left, "client TTFT p50 (ms)"),
        (right, "serving overhead p50 (ms)\nclient TTFT - engine TTFT"),
    ):
        axis.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
        axis.set_title(title)
        axis.grid(axis="y", alpha=0.3)
    left.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short run (CI): concurrency 1 and 2"
    )
    parser.add_argument(
        "--concurrency", default=None, help="comma-separated levels (default 1,4,16)"
    )
    parser.add_argument("--requests", type=int, default=None, help="requests per path and level")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    levels = [int(x) for x in (args.concurrency or ("1,2" if args.quick else "1,4,16")).split(",")]
    count = args.requests or (4 if args.quick else 32)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from serving.chat.config import ChatConfig

    facts = machine_facts(ChatConfig.resolve({}, os.environ, device="cpu").engine_kwargs)
    results = Results(
        meta={
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(facts),
            "machine_facts": facts,
            "model": f"SmolLM2-135M-Instruct ({facts['dtype']}, vLLM CPU, eager)",
            "levels": levels,
            "requests": count,
            "quick": args.quick,
        }
    )
    started = time.perf_counter()
    asyncio.run(_served_paths(levels, count, args.quick, results))
    asyncio.run(_inprocess_path(levels, count, results))
    rows = summarize(results, levels)
    table = markdown(rows, results.extras, results.meta)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "quick" if args.quick else "latest"
    (args.out / f"{stem}.md").write_text(table + "\n")
    (args.out / f"{stem}.json").write_text(
        json.dumps(
            {
                "meta": results.meta,
                "rows": rows,
                "extras": results.extras,
                "samples": [asdict(s) for s in results.samples],
            },
            indent=1,
        )
    )
    chart(rows, levels, args.out / f"{stem}.png")
    print(
        f"[bench] wrote {args.out}/{stem}.md, .json and .png "
        f"in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
