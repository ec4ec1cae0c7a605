"""The real ``BridgeApp`` (connection shell, effect runner, turn tasks) with a fake gateway and a
fake WebSocket: no socket, no Triton. What the wire shows, in time: cancel answered while a
warm-up hangs, barge-in and cancel silence the old turn, the reply lands in the history."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from bridge.client import YapClient
from bridge.protocol.config import BridgeConfig
from bridge.server import Admission, BridgeApp
from bridge.triton_gateway import ChatDelta

KEY = "k"


class FakeStream:
    def __init__(self, pieces: Sequence[str], gap_s: float) -> None:
        self.pieces, self.gap_s = list(pieces), gap_s
        self.cancelled = False

    async def __aiter__(self) -> AsyncIterator[ChatDelta]:
        for index, piece in enumerate(self.pieces):
            await asyncio.sleep(self.gap_s)
            if self.cancelled:
                return
            yield ChatDelta(piece, final=index == len(self.pieces) - 1, stats={})

    def cancel(self) -> None:
        self.cancelled = True


class FakeGateway:
    chat_model, intent_model, tokenizer_model = "chat", "screen_intent", "tokenizer"

    def __init__(self, pieces: int = 5, gap_s: float = 0.01, warm_s: float = 0.0) -> None:
        self.pieces, self.gap_s, self.warm_s = pieces, gap_s, warm_s
        self.streams: list[FakeStream] = []
        self.classified: list[str] = []

    async def models_ready(self, models: Sequence[str], timeout_s: float = 2.0) -> dict[str, bool]:
        return dict.fromkeys(models, True)

    async def measure(
        self, texts: Sequence[str], max_tokens: int = 0, keep: str = "head"
    ) -> list[tuple[int, str]]:
        return [(len(text.split()), text) for text in texts]

    async def classify(self, utterance: str, earlier: Any) -> tuple[float, bool]:
        self.classified.append(utterance)
        await asyncio.sleep(0.005)
        yes = "this" in utterance
        return (0.9 if yes else 0.1), yes

    def chat_stream(self, messages: Any, sampling: Any, **_: Any) -> FakeStream:
        if sampling.get("max_tokens") == 1:  # a warm-up
            stream = FakeStream([""], self.warm_s)
        else:
            stream = FakeStream([f"word{i} " for i in range(self.pieces)], self.gap_s)
        self.streams.append(stream)
        return stream

    async def close(self) -> None:
        return None


class FakeWebSocket:
    """Inbound frames from a queue; every event (in or out) goes to one ordered log."""

    def __init__(self) -> None:
        self.inbound: asyncio.Queue[str | None] = asyncio.Queue()
        self.log: list[tuple[str, dict[str, Any]]] = []
        self.close_code: int | None = None
        self.remote_address = ("test", 0)

    def __aiter__(self) -> FakeWebSocket:
        return self

    async def __anext__(self) -> str:
        raw = await self.inbound.get()
        if raw is None:
            raise StopAsyncIteration
        self.log.append(("in", json.loads(raw)))
        return raw

    async def send(self, text: str) -> None:
        self.log.append(("out", json.loads(text)))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.close_code = code
        self.inbound.put_nowait(None)

    def out(self) -> list[dict[str, Any]]:
        return [frame for kind, frame in self.log if kind == "out"]


def app_for(gateway: FakeGateway, **env: str) -> BridgeApp:
    config = BridgeConfig.from_env(
        {"TEXT_API_KEY": KEY, "MAX_CONCURRENT_CONNECTIONS": "4", "DEPLOY_MODELS": "both", **env}
    )
    return BridgeApp(config, gateway=gateway)  # type: ignore[arg-type]


async def connect(app: BridgeApp) -> tuple[FakeWebSocket, asyncio.Task[None]]:
    ws = FakeWebSocket()
    app._admissions[ws] = Admission(authenticated=True)
    return ws, asyncio.get_running_loop().create_task(app.handle(ws))


async def until(ws: FakeWebSocket, predicate: Any, timeout_s: float = 3.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not any(predicate(frame) for frame in ws.out()):
            await asyncio.sleep(0.002)


def send(ws: FakeWebSocket, message: dict[str, Any]) -> None:
    ws.inbound.put_nowait(json.dumps(message))


def start(utterance: str = "hello", session: str = "s1", **extra: Any) -> dict[str, Any]:
    return YapClient.start_message(session, utterance, **extra)


def is_done(frame: dict[str, Any]) -> bool:
    return frame["type"] == "done" and not frame.get("cancelled")


def test_both_mode_turn_over_the_shell() -> None:
    async def main() -> list[dict[str, Any]]:
        app = app_for(FakeGateway(pieces=3))
        ws, task = await connect(app)
        send(ws, start("look at this"))
        await until(ws, is_done)
        ws.inbound.put_nowait(None)
        await task
        return ws.out()

    found = asyncio.run(main())
    assert [f["type"] for f in found] == [
        "ack",
        "toolcall",
        "token",
        "token",
        "token",
        "final",
        "done",
    ]
    assert found[1]["status"] == "yes"
    assert found[-2]["normalized_text"] == "".join(f["text"] for f in found[2:5])


def test_a_cancel_is_answered_while_a_warm_up_hangs() -> None:
    async def main() -> tuple[list[dict[str, Any]], bool]:
        app = app_for(FakeGateway(warm_s=30.0))
        ws, task = await connect(app)
        send(ws, {"type": "warm_persona", "chat_prompt": "You are calm."})
        send(ws, {"type": "cancel"})
        send(ws, {"type": "ping"})
        await until(ws, lambda f: f["type"] == "pong", timeout_s=1.0)
        busy = next(iter(app.connections)).busy  # the hanging warm-up holds a drain
        ws.inbound.put_nowait(None)
        await task
        return ws.out(), busy

    found, busy = asyncio.run(main())
    assert found == [{"type": "done", "cancelled": True}, {"type": "pong"}]
    assert busy


def test_warm_ups_answer_in_order() -> None:
    async def main() -> list[dict[str, Any]]:
        app = app_for(FakeGateway(warm_s=0.02))
        ws, task = await connect(app)
        send(ws, {"type": "warm_persona", "chat_prompt": "You are calm."})
        send(ws, {"type": "warm_history", "history_text": "User: hi\nAssistant: hey"})
        await until(ws, lambda f: f.get("segment") == "history")
        ws.inbound.put_nowait(None)
        await task
        return ws.out()

    found = asyncio.run(main())
    assert [f["segment"] for f in found] == ["persona_static", "history"]


def test_barge_in_and_cancel_silence_the_old_turn_and_keep_its_delivered_text() -> None:
    async def main() -> tuple[list[tuple[str, dict[str, Any]]], BridgeApp, FakeGateway]:
        gateway = FakeGateway(pieces=50, gap_s=0.01)
        app = app_for(gateway, DEPLOY_MODELS="chat")
        ws, task = await connect(app)
        send(ws, start("first"))
        await until(ws, lambda f: f["type"] == "token")
        send(ws, start("second"))
        await until(ws, lambda f: f["type"] == "ack" and len(ws.out()) > 2)
        await asyncio.sleep(0.03)
        send(ws, {"type": "cancel"})
        await until(ws, lambda f: f.get("cancelled") is True)
        await asyncio.sleep(0.1)  # nothing may follow
        history = app.sessions.get("s1").history  # type: ignore[union-attr]
        ws.inbound.put_nowait(None)
        await task
        return ws.log, history, gateway

    log, history, gateway = asyncio.run(main())
    out = [frame for kind, frame in log if kind == "out"]
    acks = [i for i, f in enumerate(out) if f["type"] == "ack"]
    assert len(acks) == 2
    assert out[-1] == {"type": "done", "cancelled": True}
    assert all(f["type"] == "token" for f in out[acks[0] + 1 : acks[1]])
    first_text = "".join(f["text"] for f in out[acks[0] + 1 : acks[1]])
    assert [t.user for t in history.turns] == ["first", "second"]
    assert history.turns[0].assistant == first_text
    assert all(stream.cancelled for stream in gateway.streams)


# -- property: random conversations over the real shell --------------------------------------
TURN_TYPES = {"toolcall", "token", "final", "done"}
TURN_ERRORS = {"engine_unavailable", "internal_error", "generation_timeout"}


def turn_frame(frame: dict[str, Any]) -> bool:
    if frame["type"] == "error":
        return frame.get("error_code") in TURN_ERRORS
    return frame["type"] in TURN_TYPES and not frame.get("cancelled")


def check_turn_order(log: list[tuple[str, dict[str, Any]]]) -> None:
    """Between two inbound messages that stop a turn, the turn frames form one turn's prefix:
    toolcall (first, if any), tokens, then final + done or one error; nothing after them."""
    segment: list[str] = []
    for kind, frame in log:
        if kind == "in":
            if frame.get("type") in ("start", "cancel", "followup", "end"):
                segment = []
            continue
        if not turn_frame(frame):
            continue
        name = frame["type"] if frame["type"] != "error" else "error"
        assert "done" not in segment and "error" not in segment, (segment, name)
        if name == "toolcall":
            assert segment == [], segment
        if name == "token":
            assert "final" not in segment
        if name == "done":
            assert segment[-1:] == ["final"], segment
        segment.append(name)


MESSAGES = [
    lambda r: start(r.choice(["hello", "look at this", "take a screenshot", ""])),
    lambda r: {"type": "cancel"},
    lambda r: {"type": "ping"},
    lambda r: {"type": "followup", "analysis_text": "a red car"},
    lambda r: {"type": "warm_persona", "chat_prompt": "You are calm."},
    lambda r: {
        "type": "chat_prompt",
        "gender": "male",
        "personality": r.choice(["a", "b"]),
        "chat_prompt": "You are brief.",
    },
]


@pytest.mark.parametrize("seed", range(12))
def test_random_conversations_keep_turn_order(seed: int) -> None:
    rng = random.Random(seed)
    mode = ["both", "chat", "tool"][seed % 3]

    async def main() -> list[tuple[str, dict[str, Any]]]:
        gateway = FakeGateway(pieces=rng.randint(1, 6), gap_s=0.003, warm_s=0.01)
        app = app_for(gateway, DEPLOY_MODELS=mode, CONCURRENT_MODEL_CALL=str(seed % 2 == 0))
        ws, task = await connect(app)
        for _ in range(25):
            send(ws, rng.choice(MESSAGES)(rng))
            await asyncio.sleep(rng.choice([0.0, 0.001, 0.005, 0.02]))
        await asyncio.sleep(0.1)
        ws.inbound.put_nowait(None)
        await task
        return ws.log

    log = asyncio.run(main())
    assert any(kind == "out" for kind, _ in log)
    check_turn_order(log)
