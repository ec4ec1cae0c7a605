"""The benchmark's quick mode against the session's real Triton: the side-by-side paths (a)
and (b), the load generator with barge-ins and cancels, the table and the chart."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import compare
from bench.loadgen import run_load
from bridge.protocol.config import BridgeConfig
from bridge.server import BridgeApp
from ops.triton_server import TritonServer

pytestmark = pytest.mark.integration


def test_quick_benchmark(triton: TritonServer, tmp_path: Path) -> None:
    async def scenario():  # type: ignore[no-untyped-def]
        config = BridgeConfig.from_env(
            {
                "TEXT_API_KEY": "k",
                "MAX_CONCURRENT_CONNECTIONS": "16",
                "TRITON_GRPC_URL": triton.grpc_url,
                "BRIDGE_HOST": "127.0.0.1",
                "BRIDGE_PORT": "0",
                "WS_MAX_MESSAGES_PER_WINDOW": "0",
            }
        )
        app = BridgeApp(config)
        await app.start()
        url = f"ws://127.0.0.1:{app.port}/ws"
        try:
            results = compare.Results(
                meta={"date": "today", "machine": "test", "model": "embedded"}
            )
            for level in (1, 2):
                results.samples += await compare.bridge_requests(url, "k", level, 2, f"q{level}a")
                results.samples += await compare.grpc_requests(
                    triton.grpc_url, level, 2, f"q{level}b"
                )
            load = await run_load(
                url, "k", sessions=4, concurrency=2, turns=2, barge_in=0.25, cancel=0.25, quiet=True
            )
            return results, load
        finally:
            await app.stop()

    results, load = asyncio.run(scenario())
    rows = compare.summarize(results, [1, 2])
    assert {(r["path"], r["concurrency"]) for r in rows} == {
        ("a_bridge", 1),
        ("b_grpc", 1),
        ("a_bridge", 2),
        ("b_grpc", 2),
    }
    for row in rows:
        assert (
            row["ttft_p50"] > 0
            and row["engine_ttft_p50"] is not None
            and row["overhead_p50"] is not None
        )
    table = compare.markdown(rows, {}, results.meta)
    assert "serving overhead" in table and "(a) WebSocket" in table
    compare.chart(rows, [1, 2], tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 1000
    assert not load.errors(), load.errors()
    assert {r.action for r in load.records} <= {"complete", "barge_in", "cancel"}
    cold = load.summary(turn=1)["chat_ttfb_ms"]
    assert cold["n"] and cold["p50"] and cold["p50"] > 0
    assert "chat_ttfb_ms" in load.table()
