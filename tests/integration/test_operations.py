"""The supervisor (``python -m ops.stack``) as operators run it, against the real stack.

One stack (DEPLOY_MODELS=chat, real tritonserver, real vLLM, real bridge process) serves the
whole module, in order:

1. ``kill -9`` of tritonserver mid-turn: the client gets ``engine_unavailable`` within 1 s with
   a clean message, ``/readyz`` turns 503 while ``/livez`` stays 200, Triton is restarted, and
   a new turn on the same WebSocket streams;
2. ``kill -9`` of vLLM's ``EngineCore`` mid-turn: the chat model's health check notices, the
   turn ends with ``engine_unavailable``, the supervisor restarts Triton, turns work again;
3. SIGTERM to the supervisor mid-turn: the running turn completes, an idle socket is closed
   with 1001, a new connection is refused, the supervisor exits 0, and no process of the stack
   (stubs, ``EngineCore``, ``Worker``) is left.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest

from bridge.client import YapClient
from common import paths
from ops.triton_server import free_port

from .helpers import wait_for

pytestmark = pytest.mark.integration

KEY = "ops-test-key"
STORY = "Tell me a long, detailed story about a lighthouse keeper and a storm, in many sentences."
INTERNALS = ("debug_error_string", "AioRpcError", "ipv4:", "ipv6:", "grpc_status", "StatusCode")


@dataclass
class Stack:
    process: subprocess.Popen[bytes]
    port: int
    output: Path
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def get(self, path: str) -> int:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=3) as r:
                return int(r.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except OSError:
            return 0

    def tritonserver(self) -> psutil.Process:
        found = [
            p for p in psutil.Process(self.process.pid).children() if "tritonserver" in name(p)
        ]
        assert found, f"no tritonserver under the supervisor:\n{self.log()}"
        return found[0]

    def log(self) -> str:
        return self.output.read_text(errors="replace")[-6000:]


def name(process: psutil.Process) -> str:
    try:
        return process.name() + " " + " ".join(process.cmdline()[:3])
    except psutil.Error:
        return ""


def engine_processes(root: psutil.Process) -> list[psutil.Process]:
    return [
        p for p in root.children(recursive=True) if "EngineCore" in name(p) or "Worker" in name(p)
    ]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = free_port()
    output = tmp_path_factory.mktemp("stack") / "serve.log"
    env = {
        **os.environ,
        "DEPLOY_MODELS": "chat",
        "TEXT_API_KEY": KEY,
        "MAX_CONCURRENT_CONNECTIONS": "8",
        "BRIDGE_HOST": "127.0.0.1",
        "BRIDGE_PORT": str(port),
        "OPENAI_PORT": str(free_port()),
        "TRITON_GRPC_PORT": str(free_port()),
        "TRITON_HTTP_PORT": str(free_port()),
        "TRITON_METRICS_PORT": str(free_port()),
        "TRITON_RESTART_BACKOFF_S": "0.5",
        "DRAIN_TIMEOUT_S": "30",
        "CHAT_MAX_OUT": "400",
        "HF_HUB_OFFLINE": "1",
    }
    with output.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ops.stack"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=paths.REPO_ROOT,
        )
    running = Stack(process, port, output)
    started = time.monotonic()
    try:
        ready = wait_for(
            lambda: running.get("/readyz") == 200 or process.poll() is not None, 600, 0.5
        )
        assert ready and process.poll() is None, f"the stack did not start:\n{running.log()}"
        running.timings["start_s"] = time.monotonic() - started
        yield running
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(90)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def start(session: str, utterance: str = STORY) -> dict[str, Any]:
    return YapClient.start_message(
        session, utterance, chat_prompt="You are a storyteller. Always answer at length."
    )


async def first_token(client: YapClient) -> None:
    while True:
        frame = await client.recv(timeout=60)
        if frame.get("type") == "token":
            return
        assert frame.get("type") in ("ack", "toolcall"), frame


async def until_error_or_done(client: YapClient) -> tuple[dict[str, Any], float]:
    while True:
        frame = await client.recv(timeout=60)
        if frame.get("type") in ("error", "done"):
            return frame, time.monotonic()


async def working_turn(client: YapClient, session: str) -> Any:
    """A short turn; while Triton finishes coming back it may still be refused, so retry."""
    result = None
    for _ in range(40):
        result = await client.turn(start(session, "Say hello in one short sentence."))
        if result.error is None:
            return result
        await asyncio.sleep(0.5)
    return result


def test_kill_9_tritonserver_mid_turn_recovers_on_the_same_socket(stack: Stack) -> None:
    async def scenario() -> dict[str, Any]:
        async with await YapClient.connect(stack.url, KEY) as client:
            await client.send(start("ops-crash"))
            await first_token(client)
            victim = stack.tritonserver()
            killed_at = time.monotonic()
            victim.send_signal(signal.SIGKILL)
            frame, at = await until_error_or_done(client)
            error_ms = (at - killed_at) * 1000
            loop = asyncio.get_running_loop()
            not_ready = await loop.run_in_executor(
                None, wait_for, lambda: stack.get("/readyz") == 503, 2.0, 0.05
            )
            live = stack.get("/livez")
            back = await loop.run_in_executor(
                None, wait_for, lambda: stack.get("/readyz") == 200, 120.0, 0.25
            )
            back_s = time.monotonic() - killed_at
            turn = await working_turn(client, "ops-crash")
            return {
                "frame": frame,
                "error_ms": error_ms,
                "not_ready": not_ready,
                "live": live,
                "back": back,
                "back_s": back_s,
                "turn": turn,
                "old_pid": victim.pid,
            }

    found = asyncio.run(scenario())
    print(
        f"kill -9 tritonserver: error after {found['error_ms']:.0f} ms, back in "
        f"{found['back_s']:.1f} s"
    )
    frame = found["frame"]
    assert frame.get("type") == "error" and frame["error_code"] == "engine_unavailable", frame
    assert found["error_ms"] < 1000
    assert not any(marker in frame["message"] for marker in INTERNALS), frame["message"]
    assert found["not_ready"], "/readyz did not turn 503 while Triton was down"
    assert found["live"] == 200
    assert found["back"], f"Triton did not come back:\n{stack.log()}"
    assert stack.tritonserver().pid != found["old_pid"]
    turn = found["turn"]
    assert turn.error is None and turn.done is not None and turn.text, turn.frames
    assert "restart #1" in stack.log()


def test_dead_engine_core_is_noticed_and_triton_restarted(stack: Stack) -> None:
    async def scenario() -> dict[str, Any]:
        async with await YapClient.connect(stack.url, KEY) as client:
            await client.send(start("ops-engine"))
            await first_token(client)
            engines = engine_processes(stack.tritonserver())
            assert engines, "no EngineCore process found"
            killed_at = time.monotonic()
            for engine in engines:
                engine.send_signal(signal.SIGKILL)
            frame, at = await until_error_or_done(client)
            loop = asyncio.get_running_loop()
            back = await loop.run_in_executor(
                None,
                wait_for,
                lambda: (
                    "reports its vLLM engine dead" in stack.log() and stack.get("/readyz") == 200
                ),
                150.0,
                0.25,
            )
            back_s = time.monotonic() - killed_at
            turn = await working_turn(client, "ops-engine")
            return {
                "frame": frame,
                "error_ms": (at - killed_at) * 1000,
                "back": back,
                "back_s": back_s,
                "turn": turn,
            }

    found = asyncio.run(scenario())
    print(
        f"kill -9 EngineCore: error after {found['error_ms']:.0f} ms, back in "
        f"{found['back_s']:.1f} s"
    )
    frame = found["frame"]
    assert frame.get("type") == "error" and frame["error_code"] == "engine_unavailable", frame
    assert not any(marker in frame["message"] for marker in INTERNALS), frame["message"]
    assert found["error_ms"] < 5000
    assert found["back"], f"Triton was not restarted after the engine died:\n{stack.log()}"
    turn = found["turn"]
    assert turn.error is None and turn.done is not None and turn.text, turn.frames


def test_sigterm_drains_then_leaves_no_process(stack: Stack) -> None:
    supervisor = psutil.Process(stack.process.pid)

    async def scenario() -> dict[str, Any]:
        idle = await YapClient.connect(stack.url, KEY)
        async with await YapClient.connect(stack.url, KEY) as client:
            await client.send(start("ops-drain"))
            await first_token(client)
            tree = supervisor.children(recursive=True)
            engines = engine_processes(supervisor)
            signalled_at = time.monotonic()
            stack.process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)
            refused: Any = None
            try:
                late = await YapClient.connect(stack.url, KEY, open_timeout=3)
                await late.close()
            except Exception as exc:  # noqa: BLE001 - refused is what we want
                refused = exc
            frames = []
            while True:
                frame = await client.recv(timeout=60)
                frames.append(frame)
                if frame.get("type") in ("done", "error"):
                    break
            await client.ws.wait_closed()
            running_code = client.ws.close_code
        await idle.ws.wait_closed()
        return {
            "frames": frames,
            "refused": refused,
            "running_code": running_code,
            "idle_code": idle.ws.close_code,
            "tree": tree,
            "engines": engines,
            "signalled_at": signalled_at,
        }

    found = asyncio.run(scenario())
    types = [frame.get("type") for frame in found["frames"]]
    assert types[-2:] == ["final", "done"], found["frames"]
    assert "token" in types, "the turn had finished before SIGTERM: nothing was drained"
    assert found["refused"] is not None, "a new connection was accepted while draining"
    assert found["idle_code"] == 1001
    assert found["running_code"] == 1001
    code = stack.process.wait(90)
    stop_s = time.monotonic() - found["signalled_at"]
    print(f"SIGTERM: drained and stopped in {stop_s:.1f} s")
    assert code == 0, stack.log()
    assert found["engines"], "no EngineCore under the stack before SIGTERM"
    _, alive = psutil.wait_procs(found["tree"], timeout=30)
    assert not alive, f"left running after the stack stopped: {[name(p) for p in alive]}"
    assert "drain done" in Path(paths.STATE_DIR / "logs" / f"bridge-{stack.port}.log").read_text()
    json.dumps(found["frames"])  # frames are plain JSON


@pytest.mark.skipif(
    os.environ.get("YAP_KNOWN_GAPS") != "1",
    reason="known gap, run with YAP_KNOWN_GAPS=1: tritonserver alone, sent SIGTERM while a "
    "decoupled chat stream runs, keeps the chat model live until the stream ends (it does not "
    "cancel it), so a stream longer than --exit-timeout-secs (15 s) makes it exit with the stub "
    "still loaded; tritonserver then crashed in its exit path (malloc: unaligned tcache chunk, "
    "SIGABRT) and hung in its signal handler, 1 run in 2 on a 2-core AVX-512 EPYC, and on an "
    "AVX2 one. Under the supervisor (ops.stack) the process group is killed after its timeout.",
)
def test_sigterm_to_tritonserver_mid_request_leaves_no_engine_process() -> None:
    """The reported leak: tritonserver alone (no supervisor to kill its process group) sent
    SIGTERM while a request streams; its vLLM EngineCore must not outlive it."""
    import tritonclient.grpc.aio as grpcclient

    from ops.triton_server import TritonServer

    from .helpers import chat_inputs

    server = TritonServer(models=("chat",))
    server.start(timeout_s=600)
    try:
        assert server.process is not None
        root = psutil.Process(server.process.pid)
        engines = engine_processes(root)
        tree = root.children(recursive=True)

        async def scenario() -> int:
            client = grpcclient.InferenceServerClient(server.grpc_url)
            inputs = chat_inputs(
                [{"role": "user", "content": STORY}], {"max_tokens": 400, "ignore_eos": True}
            )

            async def requests():  # type: ignore[no-untyped-def]
                yield {"model_name": "chat", "inputs": inputs, "request_id": "leak-check"}

            seen = 0
            try:
                async for _result, error in client.stream_infer(requests()):
                    seen += 1
                    if seen == 1:
                        root.send_signal(signal.SIGTERM)
                    if error is not None:
                        break
            except Exception:  # noqa: BLE001 - the server went away under the stream
                pass
            finally:
                await client.close()
            return seen

        # bounded: a tritonserver that hangs on its way out must fail this test, not hang it
        assert asyncio.run(asyncio.wait_for(scenario(), 120)) >= 1
        server.process.wait(60)
        assert engines, "no EngineCore process under tritonserver"
        _, alive = psutil.wait_procs(tree, timeout=30)
        assert not alive, f"outlived tritonserver: {[name(p) for p in alive]}"
    finally:
        server.stop()
