"""Drain and probes of the bridge over real WebSockets, with a scripted gateway instead of Triton.

The real-stack version (SIGTERM to the supervisor) is in tests/integration/test_operations.py;
this one covers what that cannot do in reasonable time: the 1012 close at the drain deadline,
``/readyz`` while draining, and the clean ``engine_unavailable`` text.
"""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bridge.client import YapClient
from bridge.protocol.config import BridgeConfig
from bridge.server import BridgeApp
from bridge.triton_gateway import ChatDelta, TritonUnavailable, _classify_error

KEY = "drain-key"


class ScriptedStream:
    def __init__(self, pieces: int, gap_s: float, fail: bool = False) -> None:
        self.pieces, self.gap_s, self.fail = pieces, gap_s, fail
        self.cancelled = False

    async def __aiter__(self) -> AsyncIterator[ChatDelta]:
        for index in range(self.pieces):
            await asyncio.sleep(self.gap_s)
            if self.cancelled:
                return
            if self.fail:
                raise TritonUnavailable("chat: Triton is restarting, unreachable or not serving it")
            yield ChatDelta(f"word{index} ", final=index == self.pieces - 1, stats={})

    def cancel(self) -> None:
        self.cancelled = True


class ScriptedGateway:
    chat_model, intent_model, tokenizer_model = "chat", "screen_intent", "tokenizer"

    def __init__(self, pieces: int = 10, gap_s: float = 0.1, ready: bool = True) -> None:
        self.pieces, self.gap_s, self.ready, self.fail = pieces, gap_s, ready, False

    async def models_ready(self, models: Sequence[str], timeout_s: float = 2.0) -> dict[str, bool]:
        return dict.fromkeys(models, self.ready)

    async def measure(
        self, texts: Sequence[str], max_tokens: int = 0, keep: str = "head"
    ) -> list[tuple[int, str]]:
        return [(len(text.split()), text) for text in texts]

    def chat_stream(self, messages: Any, sampling: Any, **_: Any) -> ScriptedStream:
        return ScriptedStream(self.pieces, self.gap_s, self.fail)

    async def close(self) -> None:
        return None


def run(gateway: ScriptedGateway, scenario: Any, **env: str) -> Any:
    async def main() -> Any:
        config = BridgeConfig.from_env(
            {
                "TEXT_API_KEY": KEY,
                "MAX_CONCURRENT_CONNECTIONS": "8",
                "DEPLOY_MODELS": "chat",
                "BRIDGE_HOST": "127.0.0.1",
                "BRIDGE_PORT": "0",
                **env,
            }
        )
        app = BridgeApp(config, gateway=gateway)  # type: ignore[arg-type]
        await app.start()
        try:
            return await scenario(app, f"ws://127.0.0.1:{app.port}/ws")
        finally:
            await app.stop()

    return asyncio.run(main())


def get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=3) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def start() -> dict[str, Any]:
    return YapClient.start_message("s-drain", "tell me a story")


async def first_token(client: YapClient) -> None:
    while (await client.recv(timeout=5)).get("type") != "token":
        pass


def test_drain_finishes_running_turns_closes_idle_1001_and_refuses_new() -> None:
    async def scenario(app: BridgeApp, url: str) -> dict[str, Any]:
        idle = await YapClient.connect(url, KEY)
        busy = await YapClient.connect(url, KEY)
        await busy.send(start())
        await first_token(busy)
        drain = asyncio.ensure_future(app.drain(timeout_s=10))
        await asyncio.sleep(0.2)
        refused = None
        try:
            await YapClient.connect(url, KEY, open_timeout=2)
        except OSError as exc:
            refused = exc
        frames = []
        while True:
            frame = await busy.recv(timeout=5)
            frames.append(frame["type"])
            if frame["type"] in ("done", "error"):
                break
        closed = await drain
        await idle.ws.wait_closed()
        await busy.ws.wait_closed()
        return {
            "frames": frames,
            "refused": refused,
            "idle": idle.ws.close_code,
            "busy": busy.ws.close_code,
            "closed": closed,
        }

    found = run(ScriptedGateway(pieces=12, gap_s=0.1), scenario)
    assert found["frames"][-2:] == ["final", "done"] and "token" in found["frames"]
    assert isinstance(found["refused"], OSError)
    assert found["idle"] == 1001 and found["busy"] == 1001
    assert found["closed"] == {"idle": 2, "timed_out": 0}


def test_drain_deadline_closes_running_turns_with_1012() -> None:
    async def scenario(app: BridgeApp, url: str) -> tuple[int | None, dict[str, int]]:
        busy = await YapClient.connect(url, KEY)
        await busy.send(start())
        await first_token(busy)
        closed = await app.drain(timeout_s=0.3)
        await busy.ws.wait_closed()
        return busy.ws.close_code, closed

    code, closed = run(ScriptedGateway(pieces=100, gap_s=0.1), scenario)
    assert code == 1012
    assert closed == {"idle": 0, "timed_out": 1}


def test_probes_livez_readyz_healthz() -> None:
    async def scenario(app: BridgeApp, url: str) -> dict[str, Any]:
        base = url.replace("ws://", "http://").rsplit("/ws", 1)[0]
        loop = asyncio.get_running_loop()
        found = {}
        for path in ("/livez", "/readyz", "/healthz"):
            found[path] = await loop.run_in_executor(None, get, base + path)
        app.gateway.ready = False  # type: ignore[attr-defined]
        app._health = (0.0, 0, {})
        found["readyz_down"] = await loop.run_in_executor(None, get, base + "/readyz")
        found["livez_down"] = await loop.run_in_executor(None, get, base + "/livez")
        app.draining = True
        found["readyz_draining"] = await loop.run_in_executor(None, get, base + "/readyz")
        return found

    found = run(ScriptedGateway(), scenario)
    assert found["/livez"] == (200, {"status": "alive"})
    assert found["/readyz"] == (200, {"status": "ok"}) == found["/healthz"]
    assert found["readyz_down"][0] == 503 and "chat" in found["readyz_down"][1]["message"]
    assert found["livez_down"][0] == 200
    assert found["readyz_draining"][0] == 503
    assert found["readyz_draining"][1]["status"] == "draining"


def test_engine_unavailable_frame_has_no_grpc_internals() -> None:
    async def scenario(app: BridgeApp, url: str) -> Any:
        app.gateway.fail = True  # type: ignore[attr-defined]
        async with await YapClient.connect(url, KEY) as client:
            return await client.turn(start())

    turn = run(ScriptedGateway(pieces=3, gap_s=0.01), scenario)
    assert turn.error is not None and turn.error["error_code"] == "engine_unavailable"
    assert "restarting" in turn.error["message"]


class FakeRpcError(Exception):
    """What grpc.aio raises: str() carries the debug string, details() the message."""

    def details(self) -> str:
        return "Socket closed"

    def __str__(self) -> str:
        return (
            "<AioRpcError of RPC that terminated with: status = StatusCode.UNAVAILABLE details = "
            '"Socket closed" debug_error_string = "UNKNOWN:Error received from peer '
            'ipv4:127.0.0.1:8001 {grpc_status:14}">'
        )


@pytest.mark.parametrize("error", [FakeRpcError()])
def test_classified_errors_hide_grpc_internals(error: Exception) -> None:
    classified = _classify_error(error, "chat")
    assert isinstance(classified, TritonUnavailable)
    for marker in ("debug_error_string", "AioRpcError", "ipv4", "grpc_status", "StatusCode"):
        assert marker not in str(classified)


def test_a_request_that_never_becomes_a_websocket_holds_no_slot() -> None:
    """A plain GET /ws with a valid key (no upgrade) used to keep its capacity slot forever, so
    with one slot every later client was refused with server_at_capacity."""

    async def scenario(app: BridgeApp, url: str) -> Any:
        http = url.replace("ws://", "http://") + f"?api_key={KEY}"
        for _ in range(3):
            with pytest.raises(urllib.error.HTTPError) as refused:
                await asyncio.to_thread(urllib.request.urlopen, http, None, 3)
            assert refused.value.code == 426  # Upgrade Required
        async with await YapClient.connect(url, KEY) as client:
            await client.send({"type": "ping"})
            pong = await client.recv(timeout=3)
        for _ in range(50):  # the server side of the close runs on its own
            if app.capacity.active == 0:
                break
            await asyncio.sleep(0.05)
        return pong, app.capacity.active

    pong, active = run(ScriptedGateway(), scenario, MAX_CONCURRENT_CONNECTIONS="1")
    assert pong["type"] == "pong"
    assert active == 0  # the socket's slot came back after it closed
