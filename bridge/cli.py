"""Chat with a Yap server from a terminal: ``python -m bridge.cli --api-key KEY``.

Each line you type is a turn (a ``start`` with your persona); replies stream as they arrive,
with the tool decision and the time to first token. Ctrl-C during a reply sends ``cancel``;
Ctrl-C or Ctrl-D at the prompt ends; ``/persona TEXT`` changes the system prompt, ``/quit`` ends.
The prompt has line editing and history (readline) when it is a terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
import time
import uuid

from bridge.client import YapClient

DEFAULT_PERSONA = "You are a friendly voice assistant. Keep replies short and natural."


async def chat(args: argparse.Namespace) -> int:
    try:
        client = await YapClient.connect(args.url, args.api_key)
    except OSError as exc:
        print(f"cannot connect to {args.url}: {exc}", file=sys.stderr)
        return 1
    session = args.session or f"cli-{uuid.uuid4().hex[:8]}"
    persona = args.persona
    print(
        f"connected to {args.url} as session {session}; "
        "/persona TEXT, /quit, Ctrl-C cancels a reply"
    )
    loop = asyncio.get_running_loop()
    reader = LineReader(loop)
    turn: asyncio.Task[None] | None = None
    quit_now = asyncio.Event()

    def on_interrupt() -> None:
        # During a reply: cancel it. At the prompt: leave at once (no waiting for Enter).
        if turn is not None and not turn.done():
            turn.cancel()
        else:
            quit_now.set()

    loop.add_signal_handler(signal.SIGINT, on_interrupt)
    try:
        while True:
            line = await reader.next(quit_now)
            if line is None or line.strip() == "/quit":
                print()
                with contextlib.suppress(Exception):
                    await client.send({"type": "end"})
                return 0
            if line.startswith("/persona "):
                persona = line[len("/persona ") :].strip() or persona
                print("(persona changed for the next turn)")
                continue
            if not line.strip():
                continue
            message = YapClient.start_message(
                session, line, chat_prompt=persona, gender=args.gender, personality=args.personality
            )
            sent = time.perf_counter()
            await client.send(message)
            turn = loop.create_task(_print_turn(client, sent))
            try:
                await turn
            except asyncio.CancelledError:
                await client.send({"type": "cancel"})
                while (await client.recv()).get("type") != "done":
                    pass
                print("\n(cancelled)")
            finally:
                turn = None
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        await client.close()


class LineReader:
    """Reads the prompt on a daemon thread, one line per ``next()``: the event loop keeps
    answering WebSocket pings meanwhile, and leaving never waits for a pending ``input()``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        if sys.stdin.isatty():
            with contextlib.suppress(ImportError):
                import readline  # noqa: F401 - line editing and history for input()
        self._loop = loop
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._wanted = threading.Event()
        threading.Thread(target=self._run, name="yap-cli-input", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            line = _read_line()
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def next(self, quit_now: asyncio.Event) -> str | None:
        self._wanted.set()
        got = asyncio.ensure_future(self._lines.get())
        stop = asyncio.ensure_future(quit_now.wait())
        done, _ = await asyncio.wait({got, stop}, return_when=asyncio.FIRST_COMPLETED)
        if got in done:
            stop.cancel()
            return got.result()
        got.cancel()
        return None


def _read_line() -> str | None:
    try:
        return input("you> ")
    except EOFError:
        return None


async def _print_turn(client: YapClient, sent: float) -> None:
    first = True
    while True:
        frame = await client.recv(timeout=120)
        kind = frame.get("type")
        if kind == "toolcall":
            print(f"  [tool {frame['status']} {frame.get('raw')}]")
        elif kind == "token":
            if first:
                print(f"bot ({(time.perf_counter() - sent) * 1000:.0f} ms)> ", end="")
                first = False
            print(frame["text"], end="", flush=True)
        elif kind == "done":
            print()
            return
        elif kind == "error":
            print(f"\n[error {frame.get('error_code', '')}] {frame.get('message')}")
            return


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Chat with a Yap server from a terminal")
    parser.add_argument("--url", default=os.environ.get("YAP_URL", "ws://localhost:8000/ws"))
    parser.add_argument(
        "--api-key",
        default=os.environ.get("TEXT_API_KEY"),
        required=not os.environ.get("TEXT_API_KEY"),
    )
    parser.add_argument("--session", default=None)
    parser.add_argument("--persona", default=DEFAULT_PERSONA)
    parser.add_argument("--gender", default="female", choices=["female", "male"])
    parser.add_argument("--personality", default="friendly")
    args = parser.parse_args(argv)
    try:
        return asyncio.run(chat(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
