"""The quality table: perplexity, size on disk and decode speed of bf16 and each export.

``python -m quantize.evaluate`` makes (or reuses) the cached export of every scheme, then
measures the source and each export in one run, each in its own child process with vLLM, the
engine that serves them:
- perplexity of the held-out conversations' assistant replies (``quantize/data/heldout.jsonl``,
  never used for calibration), from vLLM's prompt log-probabilities;
- weights on disk (the safetensors files);
- single-stream decode speed on this machine (tokens/s after the first token, greedy, EOS
  ignored, median of a few runs).
It prints a Markdown table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import paths
from quantize import calibration, checkpoint, metadata
from quantize.cache import QUANTIZED_DIR, ensure_export
from quantize.export import ExportError
from quantize.schemes import SCHEMES

DEFAULT_SCHEMES = ("int8-w8a8", "fp8-dynamic", "gptq-w4a16", "awq-w4a16")
DEFAULT_DECODE_TOKENS = 128
DEFAULT_REPEATS = 3
SPEED_PROMPT = [{"role": "user", "content": "Tell me a long story about a lighthouse keeper."}]


@dataclass(frozen=True)
class Row:
    name: str
    folder: str
    perplexity: float | None
    eval_tokens: int
    weights_bytes: int
    decode_tok_s: float | None
    export_s: float | None
    error: str | None = None


# -- measuring one checkpoint (runs in a child process) -------------------------------------
def reply_spans(
    conversations: Sequence[list[dict[str, str]]], tokenizer: Any
) -> list[tuple[list[int], int]]:
    """Token ids of each whole conversation, and where its last (assistant) reply starts."""
    spans = []
    for messages in conversations:
        full = tokenizer.apply_chat_template(messages, tokenize=False)
        prompt = tokenizer.apply_chat_template(
            messages[:-1], tokenize=False, add_generation_prompt=True
        )
        if not full.startswith(prompt):
            raise ValueError("the chat template does not render the prompt as a prefix of the chat")
        ids = tokenizer(full, add_special_tokens=False)["input_ids"]
        start = len(tokenizer(prompt, add_special_tokens=False)["input_ids"])
        spans.append((list(ids), start))
    return spans


def perplexity_from(logprobs: Sequence[Sequence[float]]) -> tuple[float, int]:
    """exp(mean negative log-likelihood) over every scored token of every reply."""
    scored = [value for reply in logprobs for value in reply]
    if not scored:
        raise ValueError("no tokens to score")
    return math.exp(-sum(scored) / len(scored)), len(scored)


def measure(folder: Path, eval_set: Path, decode_tokens: int, repeats: int) -> dict[str, Any]:
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    os.environ.setdefault("VLLM_NO_USAGE_STATS", "1")
    os.environ.setdefault("VLLM_HOST_IP", "127.0.0.1")
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    conversations = [
        sample for sample in calibration.load_file(eval_set) if isinstance(sample, list)
    ]
    started = time.monotonic()
    llm = LLM(model=str(folder), enforce_eager=True, max_model_len=2048, seed=0)
    load_s = time.monotonic() - started
    tokenizer = llm.get_tokenizer()

    spans = reply_spans(conversations, tokenizer)
    outputs = llm.generate(
        [TokensPrompt(prompt_token_ids=ids) for ids, _ in spans],
        SamplingParams(max_tokens=1, prompt_logprobs=0, temperature=0.0),
        use_tqdm=False,
    )
    replies: list[list[float]] = []
    for (ids, start), output in zip(spans, outputs, strict=True):
        found = output.prompt_logprobs or []
        reply = []
        for i in range(start, len(ids)):
            position = found[i]  # None only at position 0, which is never in a reply
            assert position is not None
            reply.append(position[ids[i]].logprob)
        replies.append(reply)
    ppl, scored = perplexity_from(replies)

    speed_chat: Any = SPEED_PROMPT
    prompt = tokenizer.apply_chat_template(speed_chat, tokenize=False, add_generation_prompt=True)

    def timed(tokens: int) -> float:
        params = SamplingParams(max_tokens=tokens, ignore_eos=True, temperature=0.0)
        begin = time.perf_counter()
        llm.generate([prompt], params, use_tqdm=False)
        return time.perf_counter() - begin

    timed(decode_tokens + 1)  # warm-up
    speeds = []
    for _ in range(repeats):
        first = timed(1)
        whole = timed(decode_tokens + 1)
        speeds.append(decode_tokens / max(whole - first, 1e-9))
    return {
        "perplexity": ppl,
        "eval_tokens": scored,
        "decode_tok_s": statistics.median(speeds),
        "decode_runs": speeds,
        "load_s": load_s,
    }


# -- the table ------------------------------------------------------------------------------
def _measure_in_child(
    folder: Path, eval_set: Path, decode_tokens: int, repeats: int
) -> dict[str, Any]:
    python = os.environ.get("YAP_PYTHON") or sys.executable
    command = [
        python, "-m", "quantize.evaluate", "--measure", str(folder),
        "--eval-set", str(eval_set),
        "--decode-tokens", str(decode_tokens), "--repeats", str(repeats),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            return dict(json.loads(line))
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
    return {"error": f"exit {done.returncode}: {tail}"}


def markdown_table(rows: Sequence[Row], baseline: float | None) -> str:
    lines = [
        "| checkpoint | perplexity (held-out) | vs bf16 | weights on disk | decode tokens/s "
        "| export time |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        if row.perplexity is not None:
            ppl = f"{row.perplexity:.3f}"
            delta = f"{(row.perplexity / baseline - 1) * 100:+.1f}%" if baseline else "-"
        else:
            ppl, delta = "failed", "-"
        speed = f"{row.decode_tok_s:.1f}" if row.decode_tok_s is not None else "failed"
        export_s = f"{row.export_s:.0f} s" if row.export_s is not None else "-"
        size = f"{row.weights_bytes / 2**20:.0f} MiB"
        if row.name == "bf16":
            delta = "-"
        lines.append(f"| {row.name} | {ppl} | {delta} | {size} | {speed} | {export_s} |")
    return "\n".join(lines)


def run(
    model: Path,
    schemes: Sequence[str],
    eval_set: Path,
    decode_tokens: int,
    repeats: int,
) -> tuple[list[Row], dict[str, Any]]:
    targets: list[tuple[str, Path, float | None]] = [("bf16", model, None)]
    for name in schemes:
        scheme = SCHEMES[name]
        started = time.monotonic()
        folder = ensure_export(model, scheme.name)
        record = metadata.read_metadata(folder)
        print(
            f"[evaluate] {scheme.label}: {folder} "
            f"(ensure_export {time.monotonic() - started:.0f} s)",
            flush=True,
        )
        targets.append((scheme.label, folder, float(record["duration_s"])))
    rows: list[Row] = []
    for name, folder, export_s in targets:
        print(f"[evaluate] measuring {name} ...", flush=True)
        found = _measure_in_child(folder, eval_set, decode_tokens, repeats)
        row = Row(
            name=name,
            folder=str(folder),
            perplexity=found.get("perplexity"),
            eval_tokens=int(found.get("eval_tokens", 0)),
            weights_bytes=checkpoint.folder_size(folder)["weights"],
            decode_tok_s=found.get("decode_tok_s"),
            export_s=export_s,
            error=found.get("error"),
        )
        if row.error:
            print(f"[evaluate] {name} failed: {row.error}", flush=True)
        else:
            print(
                f"[evaluate] {name}: perplexity {row.perplexity:.3f} over "
                f"{row.eval_tokens} tokens, {row.decode_tok_s:.1f} tokens/s",
                flush=True,
            )
        rows.append(row)
    context = {
        "source": str(model),
        "eval_set": str(eval_set),
        "decode_tokens": decode_tokens,
        "repeats": repeats,
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "tools": metadata.tool_versions(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    return rows, context


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m quantize.evaluate", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--model", type=Path, default=paths.EMBEDDED_CHAT_DIR, help="float source checkpoint"
    )
    parser.add_argument(
        "--schemes",
        default=",".join(DEFAULT_SCHEMES),
        help=f"comma-separated schemes (default: {','.join(DEFAULT_SCHEMES)})",
    )
    parser.add_argument("--eval-set", type=Path, default=calibration.SHIPPED_HELDOUT)
    parser.add_argument("--decode-tokens", type=int, default=DEFAULT_DECODE_TOKENS)
    parser.add_argument("--repeats", type=int, default=DEFAULT_REPEATS)
    parser.add_argument(
        "--json",
        type=Path,
        default=QUANTIZED_DIR / "quality.json",
        help="where to write the figures",
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child-process mode
    args = parser.parse_args(argv)

    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.eval_set, args.decode_tokens, args.repeats)))
        return 0
    try:
        schemes = [
            SCHEMES[name].name if name in SCHEMES else _alias(name)
            for name in args.schemes.split(",")
            if name
        ]
        rows, context = run(args.model, schemes, args.eval_set, args.decode_tokens, args.repeats)
    except (ExportError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    baseline = rows[0].perplexity
    table = markdown_table(rows, baseline)
    print()
    print(table)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {"context": context, "rows": [row.__dict__ for row in rows], "markdown": table},
            indent=2,
        )
        + "\n"
    )
    print(f"\n[evaluate] wrote {args.json}")
    return 0 if all(row.error is None for row in rows) else 1


def _alias(name: str) -> str:
    from quantize.schemes import get_scheme

    return get_scheme(name).name


if __name__ == "__main__":
    raise SystemExit(main())
