"""perf_analyzer profiles of the model repository, on a tritonserver started for the run.

- chat, streaming: time to first token and inter-token latency per concurrency, computed from
  perf_analyzer's per-response timestamps (``--profile-export-file``), as GenAI-Perf does;
- screen_intent: a concurrency sweep with Triton's dynamic batcher, then the same sweep with the
  model reloaded without it (a config override), showing what batching buys;
- chat_turn (the ensemble), streaming.

perf_analyzer comes from the ``tritonclient==2.51.0`` wheel (``.venv/bin/perf_analyzer``); it
needs ``libb64.so.0d`` and ``libcudart.so.12``, which ``scripts/setup.sh`` links from the
``nvidia-pytriton`` wheel into ``.yap/tritonserver/lib`` (no apt, no CUDA install).

    python -m bench.perf [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.loadgen import PERSONA, percentile
from bench.machine import describe, machine_facts
from common import paths
from ops.triton_server import DEPLOY_MODES, TritonServer, launch_env

PERF_ANALYZER = Path(sys.executable).parent / "perf_analyzer"
RESULTS_DIR = paths.REPO_ROOT / "bench" / "results"


def _bytes(value: str) -> dict[str, Any]:
    return {"content": [value], "shape": [1]}


def write_inputs(folder: Path) -> dict[str, Path]:
    chat = {
        "data": [
            {
                "text_input": _bytes(
                    f"<|im_start|>system\n({i}) {PERSONA}<|im_end|>\n<|im_start|>user\n"
                    f"Tell me about topic number {i}.<|im_end|>\n<|im_start|>assistant\n"
                ),
                "stream": {"content": [True], "shape": [1]},
                "sampling_parameters": _bytes(json.dumps({"max_tokens": 24, "ignore_eos": True})),
            }
            for i in range(16)
        ]
    }
    # Mid-conversation, as the bridge sends it: four earlier lines, one marked as captured (the
    # classifier keeps the newest three), so the measured input is as long as a real turn's.
    earlier = json.dumps(
        [
            {"text": "ok I'm on the store page now", "captured": False},
            {"text": "these are the two jackets I was talking about", "captured": True},
            {"text": "the green one is cheaper but I'm not sure about the fit", "captured": False},
            {"text": "my sister said the sizes run small", "captured": False},
        ]
    )
    intent = {
        "data": [
            {"text": _bytes(text), "context": _bytes(earlier)}
            for text in (
                "what do you think of this outfit?",
                "tell me a joke",
                "is this email ok?",
                "what's the weather like",
                "can you read this for me",
                "how are you today",
            )
        ]
    }
    turn = {
        "data": [
            {
                "system_prompt": _bytes(f"({i}) {PERSONA}"),
                "history_text": _bytes("User: hi\nAssistant: Hey! What's up?"),
                "user_utterance": _bytes(f"tell me about topic number {i}"),
                "sampling_parameters": _bytes(json.dumps({"max_tokens": 24})),
            }
            for i in range(16)
        ]
    }
    found = {}
    for name, payload in (("chat", chat), ("screen_intent", intent), ("chat_turn", turn)):
        path = folder / f"{name}.json"
        path.write_text(json.dumps(payload))
        found[name] = path
    return found


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class Unstable(RuntimeError):
    """perf_analyzer found no stable measurement in its trials (a loaded or slow machine)."""


def run_pa(
    server: TritonServer,
    model: str,
    data: Path,
    concurrency: int,
    *,
    streaming: bool,
    export: Path | None,
    interval_ms: int,
) -> str:
    args = [
        str(PERF_ANALYZER),
        "-m",
        model,
        "-i",
        "grpc",
        "-u",
        server.grpc_url,
        "--input-data",
        str(data),
        "--concurrency-range",
        str(concurrency),
        "--measurement-interval",
        str(interval_ms),
        "--stability-percentage",
        "50",
        "--max-trials",
        "4",
    ]
    if streaming:
        args.append("--streaming")
    if export is not None:
        args += ["--profile-export-file", str(export)]
    env = launch_env()
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0 and "Failed to obtain stable measurement" in done.stdout:
        raise Unstable(f"{model} at concurrency {concurrency}: no stable measurement")
    if done.returncode != 0:
        raise RuntimeError(
            f"perf_analyzer failed ({done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return done.stdout


def streaming_latencies(export: Path) -> dict[str, float | None]:
    """TTFT and inter-token latency (ms) from a perf_analyzer profile export."""
    profile = json.loads(export.read_text())
    ttft, itl = [], []
    for experiment in profile.get("experiments", []):
        for request in experiment.get("requests", []):
            sent = request["timestamp"]
            stamps = request.get("response_timestamps") or []
            if not stamps:
                continue
            ttft.append((stamps[0] - sent) / 1e6)
            itl += [(b - a) / 1e6 for a, b in itertools.pairwise(stamps)]
    return {
        "requests": float(len(ttft)),
        "ttft_p50": statistics.median(ttft) if ttft else None,
        "ttft_p95": percentile(ttft, 95),
        "itl_p50": statistics.median(itl) if itl else None,
        "itl_p95": percentile(itl, 95),
    }


def throughput(stdout: str) -> tuple[float | None, float | None]:
    """(inferences/s, p50 latency ms) from perf_analyzer's summary."""
    rate = latency = None
    for line in stdout.splitlines():
        line = line.strip()
        if line.startswith("Throughput:") and rate is None:
            rate = float(line.split()[1])
        if line.startswith("p50 latency:") and latency is None:
            latency = float(line.split()[2]) / 1000.0
    return rate, latency


def batch_sizes(server: TritonServer, model: str) -> dict[int, int]:
    import urllib.request

    stats = json.loads(
        urllib.request.urlopen(f"{server.http_url}/v2/models/{model}/stats", timeout=10).read()
    )
    sizes: dict[int, int] = {}
    for entry in stats["model_stats"][0].get("batch_stats", []):
        sizes[int(entry["batch_size"])] = int(entry["compute_infer"]["count"])
    return sizes


def reload_without_batching(server: TritonServer) -> None:
    """Reload screen_intent with its own config minus ``dynamic_batching`` (a load override)."""
    import urllib.request

    url = f"{server.http_url}/v2/models/screen_intent/config"
    config = json.loads(urllib.request.urlopen(url, timeout=10).read())
    config.pop("dynamic_batching", None)
    body = json.dumps({"parameters": {"config": json.dumps(config)}}).encode()
    request = urllib.request.Request(
        f"{server.http_url}/v2/repository/models/screen_intent/load",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=120).read()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    parser.add_argument(
        "--only",
        choices=("chat", "screen_intent"),
        default=None,
        help="profile one model family only (default: both)",
    )
    args = parser.parse_args(argv)
    if not PERF_ANALYZER.exists():
        sys.exit(
            f"{PERF_ANALYZER} is missing: run scripts/setup.sh (tritonclient==2.51.0 ships it)"
        )
    interval = 3000 if args.quick else 6000
    chat_levels = [1, 2] if args.quick else [1, 4, 8]
    intent_levels = [1, 4] if args.quick else [1, 2, 4, 8, 16]
    facts = machine_facts()
    lines: list[str] = [f"Measured {time.strftime('%Y-%m-%d')} on {describe(facts)}.", ""]
    report: dict[str, Any] = {"machine": facts}
    with tempfile.TemporaryDirectory() as tmp, TritonServer(models=DEPLOY_MODES["both"]) as server:
        folder = Path(tmp)
        inputs = write_inputs(folder)
        chat_runs = (
            ("chat", "chat (streaming, 24 output tokens)", chat_levels),
            ("chat_turn", "chat_turn ensemble (streaming)", chat_levels[:2]),
        )
        for model, title, levels in chat_runs if args.only != "screen_intent" else ():
            lines += [
                f"### {title}",
                "",
                "| concurrency | requests | TTFT p50 ms | TTFT p95 ms | ITL p50 ms | ITL p95 ms |",
                "|---|---|---|---|---|---|",
            ]
            for level in levels:
                export = folder / f"{model}-{level}.json"
                try:
                    run_pa(
                        server,
                        model,
                        inputs[model],
                        level,
                        streaming=True,
                        export=export,
                        interval_ms=interval,
                    )
                except Unstable:
                    report[f"{model}_c{level}"] = None
                    lines.append(f"| {level} | no stable measurement in 4 windows | | | | |")
                    continue
                found = report[f"{model}_c{level}"] = streaming_latencies(export)
                cells = [
                    "-" if found[k] is None else f"{found[k]:.1f}"
                    for k in ("ttft_p50", "ttft_p95", "itl_p50", "itl_p95")
                ]
                lines.append(
                    f"| {level} | {int(found['requests'] or 0)} | " + " | ".join(cells) + " |"
                )
            lines.append("")
        if args.only != "chat":
            lines += [
                "### screen_intent: what dynamic batching buys",
                "",
                "| concurrency | with dynamic batching: infer/s | p50 ms "
                "| without: infer/s | p50 ms |",
                "|---|---|---|---|---|",
            ]

            def intent_throughput(level: int) -> tuple[float | None, float | None]:
                try:
                    stdout = run_pa(
                        server,
                        "screen_intent",
                        inputs["screen_intent"],
                        level,
                        streaming=False,
                        export=None,
                        interval_ms=interval,
                    )
                except Unstable:
                    return None, None
                return throughput(stdout)

            batched = {level: intent_throughput(level) for level in intent_levels}
            report["screen_intent_batch_sizes"] = batch_sizes(server, "screen_intent")
            reload_without_batching(server)
            time.sleep(1)
            for level in intent_levels:
                plain = intent_throughput(level)
                with_b = batched[level]
                report[f"screen_intent_c{level}"] = {"batched": with_b, "unbatched": plain}
                lines.append(
                    "| " + " | ".join([str(level), *(_cell(v) for v in (*with_b, *plain))]) + " |"
                )
            lines += [
                "",
                f"Batch sizes executed with dynamic batching (size: executions): "
                f"{report['screen_intent_batch_sizes']}",
            ]
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = ("perf-quick" if args.quick else "perf") + (f"-{args.only}" if args.only else "")
    (args.out / f"{stem}.md").write_text(table + "\n")
    (args.out / f"{stem}.json").write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
