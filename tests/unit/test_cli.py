"""The terminal client in a real pseudo-terminal, against a bridge with a scripted gateway:
line editing (an arrow key moves the cursor instead of printing ``^[[D``) and Ctrl-C at the
prompt ends the client at once instead of hanging until Enter."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import signal
import sys
import time

from test_bridge_drain import KEY, ScriptedGateway  # same folder (pytest prepends it)

from bridge.protocol.config import BridgeConfig
from bridge.server import BridgeApp


def test_cli_turn_arrow_keys_and_ctrl_c_at_the_prompt() -> None:
    async def main() -> tuple[bytes, float | None]:
        config = BridgeConfig.from_env(
            {
                "TEXT_API_KEY": KEY,
                "MAX_CONCURRENT_CONNECTIONS": "2",
                "DEPLOY_MODELS": "chat",
                "BRIDGE_HOST": "127.0.0.1",
                "BRIDGE_PORT": "0",
            }
        )
        app = BridgeApp(config, gateway=ScriptedGateway(pieces=3, gap_s=0.02))  # type: ignore[arg-type]
        await app.start()
        pid, fd = pty.fork()
        if pid == 0:  # the child: the client, in the terminal
            url = f"ws://127.0.0.1:{app.port}/ws"
            os.execv(
                sys.executable, [sys.executable, "-m", "bridge.cli", "--url", url, "--api-key", KEY]
            )
        out = b""

        async def read_until(marker: bytes, timeout_s: float) -> None:
            nonlocal out
            deadline = time.monotonic() + timeout_s
            while marker not in out and time.monotonic() < deadline:
                if select.select([fd], [], [], 0)[0]:
                    try:
                        out += os.read(fd, 4096)
                    except OSError:
                        return
                else:
                    await asyncio.sleep(0.02)

        try:
            await read_until(b"you> ", 20)
            os.write(fd, b"hello\x1b[D\r")  # a left arrow before Enter
            await read_until(b"word2", 10)
            await read_until(b"you> ", 5)
            interrupted = time.monotonic()
            os.kill(pid, signal.SIGINT)
            exited = None
            for _ in range(60):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    exited = time.monotonic() - interrupted
                    break
                await asyncio.sleep(0.05)
            if exited is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            return out, exited
        finally:
            os.close(fd)
            await app.stop()

    out, exited = asyncio.run(main())
    assert b"Word0 word1 word2" in out, out
    assert b"^[[D" not in out
    assert exited is not None and exited < 2.0, "Ctrl-C at the prompt did not end the client"
