"""Chat with a Yap server from a terminal: ``python -m bridge.cli --api-key KEY``.

Each line you type is a turn (a ``start`` with your persona); replies stream as they arrive,
with the tool decision and the time to first token. Ctrl-C during a reply sends ``cancel``;
``/persona TEXT`` changes the system prompt, ``/quit`` ends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
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
    try:
        while True:
            line = await loop.run_in_executor(None, _read_line)
            if line is None or line.strip() == "/quit":
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
            loop.add_signal_handler(signal.SIGINT, turn.cancel)
            try:
                await turn
            except asyncio.CancelledError:
                await client.send({"type": "cancel"})
                while (await client.recv()).get("type") != "done":
                    pass
                print("\n(cancelled)")
            finally:
                loop.remove_signal_handler(signal.SIGINT)
    finally:
        await client.close()


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
