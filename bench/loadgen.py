"""WebSocket load generator: N sessions at concurrency C against a Yap server.

Each session opens a socket and runs one or two turns (the second one reuses the persona and
history, so it shows the warm prefix cache). A share of turns can be barged in (a new ``start``
after the first tokens) or cancelled. Reports p50/p95/p99 of ``toolcall_ttfb_ms``,
``chat_ttfb_ms``, ``first_3_words_ms``, ``first_sentence_ms`` and ``total_ms``, and error counts
by ``error_code``; progress is printed while it runs.

    python -m bench.loadgen --url ws://localhost:8000/ws --api-key KEY --sessions 32 -c 8

``--protocol openai`` drives the OpenAI-compatible endpoint instead (``--url`` is then its base
URL, e.g. ``http://localhost:8080/v1``) with the official ``openai`` client, streaming, with the
``take_screenshot`` tool offered so each turn runs the same tool decision first; the metrics are
the same (``toolcall_ttfb_ms`` is then the tool decision's arrival: the first chunk after the
role), so the two front doors' serving overhead can be compared in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from bridge.client import SENTENCE_END, TurnResult, YapClient

PERSONA = (
    "You are Maya, a warm, quick-witted voice companion. You speak casually, in short sentences, "
    "and you never use lists or emoji. You remember what the user told you earlier in the "
    "conversation and you ask a short follow-up question when it fits."
)
UTTERANCES = (
    "hey, how's your day going?",
    "tell me something interesting about octopuses",
    "what should I cook for dinner tonight?",
    "I had a rough day at work",
    "what do you think of this outfit?",
    "can you recommend a good book?",
    "is this email ok to send?",
    "what's a fun thing to do this weekend?",
)
FOLLOWUPS = ("tell me more", "why do you say that?", "ok, and what else?", "that's funny")
METRICS = ("toolcall_ttfb_ms", "chat_ttfb_ms", "first_3_words_ms", "first_sentence_ms", "total_ms")


def percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class TurnRecord:
    session: str
    turn: int  # 1 = cold, 2 = warm
    action: str  # complete, barge_in, cancel
    toolcall_ttfb_ms: float | None
    chat_ttfb_ms: float | None
    first_3_words_ms: float | None
    first_sentence_ms: float | None
    total_ms: float | None
    error_code: str | None = None
    timings: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadReport:
    records: list[TurnRecord]
    wall_s: float
    sessions: int
    concurrency: int

    def errors(self) -> Counter[str]:
        return Counter(r.error_code for r in self.records if r.error_code)

    def summary(
        self, turn: int | None = None, action: str | None = "complete"
    ) -> dict[str, dict[str, float | None]]:
        chosen = [
            r
            for r in self.records
            if (turn is None or r.turn == turn)
            and (action is None or r.action == action)
            and not r.error_code
        ]
        out: dict[str, dict[str, float | None]] = {}
        for name in METRICS:
            values = [v for r in chosen if (v := getattr(r, name)) is not None]
            out[name] = {
                "n": float(len(values)),
                "p50": percentile(values, 50),
                "p95": percentile(values, 95),
                "p99": percentile(values, 99),
            }
        return out

    def table(self) -> str:
        lines = [
            f"{self.sessions} sessions, concurrency {self.concurrency}, {len(self.records)} turns "
            f"in {self.wall_s:.1f} s",
            "| turns | metric | n | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|",
        ]
        groups: list[tuple[str, int | None]] = [("all complete", None)]
        if any(r.turn == 2 for r in self.records):
            groups = [("cold (turn 1)", 1), ("warm (turn 2)", 2)]
        for label, turn in groups:
            for name, stats in self.summary(turn).items():
                cells = [
                    f"{stats[k]:.1f}" if stats[k] is not None else "-"
                    for k in ("p50", "p95", "p99")
                ]
                lines.append(
                    f"| {label} | {name} | {int(stats['n'] or 0)} | " + " | ".join(cells) + " |"
                )
        errors = self.errors()
        lines.append(
            "errors: " + (", ".join(f"{k}={v}" for k, v in sorted(errors.items())) or "none")
        )
        return "\n".join(lines)


def _record(session: str, turn: int, action: str, result: TurnResult) -> TurnRecord:
    error = result.error.get("error_code", "error") if result.error else None
    timings = (result.done or {}).get("timings") or {}
    return TurnRecord(
        session,
        turn,
        action,
        result.toolcall_ms,
        result.first_token_ms,
        result.first_3_words_ms,
        result.first_sentence_ms,
        result.total_ms,
        error,
        timings,
    )


async def run_session(
    url: str,
    api_key: str,
    index: int,
    *,
    turns: int,
    barge_in: float,
    cancel: float,
    rng: random.Random,
    progress: Counter[str],
    timings: bool,
) -> list[TurnRecord]:
    session = f"load-{uuid.uuid4().hex[:10]}"
    persona = f"(conversation {session}) {PERSONA}"  # unique: the first turn is really cold
    records: list[TurnRecord] = []
    try:
        client = await YapClient.connect(url, api_key)
    except Exception as exc:
        progress["connect_failed"] += 1
        return [
            TurnRecord(
                session,
                1,
                "complete",
                None,
                None,
                None,
                None,
                None,
                f"connect: {type(exc).__name__}",
            )
        ]
    try:
        history = ""
        for turn in range(1, turns + 1):
            utterance = (
                UTTERANCES[(index + turn) % len(UTTERANCES)] if turn == 1 else rng.choice(FOLLOWUPS)
            )
            message = YapClient.start_message(
                session, utterance, chat_prompt=persona, history_text=history
            )
            if timings:
                message["include_timings"] = True
            roll = rng.random()
            action = (
                "barge_in"
                if roll < barge_in
                else "cancel"
                if roll < barge_in + cancel
                else "complete"
            )
            if action == "complete":
                result = await client.turn(message)
            else:
                result = TurnResult(sent_at=time.perf_counter())
                await client.send(message)
                while len(result.tokens) < 3 and result.done is None and result.error is None:
                    frame = await client.recv()
                    result.frames.append(frame)
                    if frame["type"] == "token":
                        result.tokens.append(frame["text"])
                        result.first_token_ms = (
                            result.first_token_ms or (time.perf_counter() - result.sent_at) * 1000
                        )
                    elif frame["type"] == "toolcall":
                        result.toolcall_ms = (time.perf_counter() - result.sent_at) * 1000
                    elif frame["type"] == "error":
                        result.error = frame
                if action == "cancel":
                    await client.send({"type": "cancel"})
                    while (await client.recv()).get("cancelled") is not True:
                        pass
                else:  # barge-in: the interrupting turn is measured as a normal turn
                    barge = await client.turn(
                        YapClient.start_message(
                            session, "wait, actually, never mind", chat_prompt=persona
                        )
                    )
                    records.append(_record(session, turn, "complete", barge))
            records.append(_record(session, turn, action, result))
            progress[action] += 1
            history += f"User: {utterance}\nAssistant: {result.text}\n"
    finally:
        await client.close()
    return records


SCREENSHOT_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": "take_screenshot", "parameters": {"type": "object", "properties": {}}},
}


async def run_openai_session(
    url: str,
    api_key: str,
    index: int,
    *,
    turns: int,
    barge_in: float,
    cancel: float,
    rng: random.Random,
    progress: Counter[str],
    timings: bool,
) -> list[TurnRecord]:
    """One conversation over ``/v1/chat/completions`` (streamed); see the module docstring."""
    import openai

    session = f"load-{uuid.uuid4().hex[:10]}"
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": f"(conversation {session}) {PERSONA}"}
    ]
    records: list[TurnRecord] = []
    client = openai.AsyncOpenAI(base_url=url, api_key=api_key, max_retries=0)

    async def one_turn(utterance: str, stop_after: int | None) -> TurnResult:
        result = TurnResult(sent_at=time.perf_counter())
        try:
            stream: Any = await client.chat.completions.create(
                model=os.environ.get("OPENAI_MODEL_NAME", "yap"),
                messages=[*messages, {"role": "user", "content": utterance}],  # type: ignore[list-item]
                tools=[SCREENSHOT_TOOL],  # type: ignore[list-item]
                stream=True,
            )
            async for chunk in stream:
                elapsed = (time.perf_counter() - result.sent_at) * 1000.0
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if result.toolcall_ms is None and (delta.tool_calls or delta.content):
                    result.toolcall_ms = elapsed  # the tool decision is in (yes or no)
                if delta.content:
                    result.tokens.append(delta.content)
                    text = result.text
                    result.first_token_ms = result.first_token_ms or elapsed
                    if result.first_3_words_ms is None and len(text.split()) >= 3:
                        result.first_3_words_ms = elapsed
                    if result.first_sentence_ms is None and SENTENCE_END.search(text):
                        result.first_sentence_ms = elapsed
                    if stop_after is not None and len(result.tokens) >= stop_after:
                        await stream.close()  # the client goes away: the engine stops
                        return result
            result.total_ms = (time.perf_counter() - result.sent_at) * 1000.0
        except openai.APIStatusError as exc:
            result.error = {"error_code": str(exc.code or exc.status_code)}
        except openai.APIConnectionError as exc:
            result.error = {"error_code": f"connect: {type(exc).__name__}"}
        return result

    try:
        for turn in range(1, turns + 1):
            utterance = (
                UTTERANCES[(index + turn) % len(UTTERANCES)] if turn == 1 else rng.choice(FOLLOWUPS)
            )
            roll = rng.random()
            action = (
                "barge_in"
                if roll < barge_in
                else "cancel"
                if roll < barge_in + cancel
                else "complete"
            )
            result = await one_turn(utterance, None if action == "complete" else 3)
            if action == "barge_in":
                barge = await one_turn("wait, actually, never mind", None)
                records.append(_record(session, turn, "complete", barge))
            records.append(_record(session, turn, action, result))
            progress[action] += 1
            messages += [
                {"role": "user", "content": utterance},
                {"role": "assistant", "content": result.text},
            ]
    finally:
        await client.close()
    return records


async def run_load(
    url: str,
    api_key: str,
    *,
    sessions: int,
    concurrency: int,
    turns: int = 1,
    barge_in: float = 0.0,
    cancel: float = 0.0,
    seed: int = 0,
    quiet: bool = False,
    timings: bool = False,
    protocol: str = "yap",
) -> LoadReport:
    rng = random.Random(seed)
    progress: Counter[str] = Counter()
    gate = asyncio.Semaphore(concurrency)
    started = time.perf_counter()

    session_runner = run_openai_session if protocol == "openai" else run_session

    async def one(index: int) -> list[TurnRecord]:
        async with gate:
            return await session_runner(
                url,
                api_key,
                index,
                turns=turns,
                barge_in=barge_in,
                cancel=cancel,
                rng=random.Random(rng.random()),
                progress=progress,
                timings=timings,
            )

    async def report_progress() -> None:
        while True:
            await asyncio.sleep(2.0)
            done = sum(progress.values())
            print(
                f"[load] {done}/{sessions * turns} turns, "
                f"{time.perf_counter() - started:.0f} s, {dict(progress)}",
                file=sys.stderr,
                flush=True,
            )

    reporter = None if quiet else asyncio.get_running_loop().create_task(report_progress())
    try:
        results = await asyncio.gather(*(one(i) for i in range(sessions)))
    finally:
        if reporter is not None:
            reporter.cancel()
    records = [r for group in results for r in group]
    return LoadReport(records, time.perf_counter() - started, sessions, concurrency)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Yap WebSocket load generator")
    parser.add_argument("--url", default=os.environ.get("YAP_URL", "ws://localhost:8000/ws"))
    parser.add_argument("--api-key", default=os.environ.get("TEXT_API_KEY"))
    parser.add_argument("--sessions", "-n", type=int, default=16)
    parser.add_argument("--concurrency", "-c", type=int, default=4)
    parser.add_argument(
        "--turns", type=int, choices=[1, 2], default=2, help="2: cold then warm turn"
    )
    parser.add_argument(
        "--barge-in", type=float, default=0.0, help="share of turns interrupted by a new start"
    )
    parser.add_argument(
        "--cancel", type=float, default=0.0, help="share of turns cancelled after 3 tokens"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--protocol",
        choices=["yap", "openai"],
        default="yap",
        help="openai: drive /v1/chat/completions (--url is its base URL, .../v1)",
    )
    parser.add_argument("--json", help="also write the records here")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key (or TEXT_API_KEY) is required")
    report = asyncio.run(
        run_load(
            args.url,
            args.api_key,
            sessions=args.sessions,
            concurrency=args.concurrency,
            turns=args.turns,
            barge_in=args.barge_in,
            cancel=args.cancel,
            seed=args.seed,
            protocol=args.protocol,
        )
    )
    print(report.table())
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([asdict(r) for r in report.records], handle, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
