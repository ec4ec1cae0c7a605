"""Side by side, one process: the classifier's training step with torch's dropout and with
``fast_dropout``, on the same batches of the shipped data, steps interleaved (A B, B A, ...) so
that steal time and clock changes hit both alike.

    .venv/bin/python -m bench.training_step [--steps 120] [--batch-size 32]

Both models start from the same weights, run the shipped training's settings (frozen layers,
bf16 autocast where the CPU has it, AdamW) and differ only in how dropout draws its masks.
Writes ``bench/results/training-step.{md,json}``.
"""

from __future__ import annotations

import argparse
import copy
import random
import statistics
import time
from typing import Any

from bench.machine import machine_facts, write_results


def _run(steps: int, batch_size: int, warmup: int) -> dict[str, Any]:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer
    from transformers.utils import logging

    from serving.screen_intent import fast_dropout, training
    from serving.screen_intent.features import encode_pairs

    logging.set_verbosity_error()
    examples = training.load_examples(training.DEFAULT_DATA_PATH)
    pairs = [e.pair for e in examples]
    labels = [e.label for e in examples]
    base = training.default_base_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(base, truncation_side="left")
    lengths = encode_pairs(tokenizer, pairs, training.TRAIN_MAX_LENGTH)["attention_mask"].sum(1)
    batches = training.length_batches(lengths.tolist(), batch_size, random.Random(0))
    if len(batches) < warmup + steps:
        raise SystemExit(f"only {len(batches)} batches for {warmup + steps} steps")
    precision = training.training_precision()

    torch.manual_seed(0)
    stock = AutoModelForSequenceClassification.from_pretrained(base, num_labels=2)
    fast = copy.deepcopy(stock)
    fast_dropout.install(fast)
    modes = {"torch dropout": stock, "fast_dropout": fast}
    optimizers = {}
    for name, model in modes.items():
        training.freeze_bottom(model, training.FREEZE_LAYERS)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        optimizers[name] = torch.optim.AdamW(params, lr=training.LEARNING_RATE)

    def step(name: str, batch: list[int]) -> float:
        started = time.perf_counter()
        enc = encode_pairs(tokenizer, [pairs[i] for i in batch], training.TRAIN_MAX_LENGTH)
        training.train_step(
            modes[name], optimizers[name], enc, [labels[i] for i in batch], precision
        )
        return time.perf_counter() - started

    times: dict[str, list[float]] = {name: [] for name in modes}
    tokens = 0
    for index, batch in enumerate(batches[: warmup + steps]):
        order = list(modes) if index % 2 == 0 else list(reversed(modes))
        for name in order:
            elapsed = step(name, batch)
            if index >= warmup:
                times[name].append(elapsed)
        if index >= warmup:
            tokens += sum(int(lengths[i]) for i in batch)
    per_step = {name: statistics.mean(values) * 1000 for name, values in times.items()}
    return {
        "steps": steps,
        "batch_size": batch_size,
        "mean_tokens_per_batch": round(tokens / steps, 1),
        "precision": precision,
        "torch_threads": torch.get_num_threads(),
        "ms_per_step": {name: round(ms, 1) for name, ms in per_step.items()},
        "median_ms_per_step": {
            name: round(statistics.median(values) * 1000, 1) for name, values in times.items()
        },
        "speedup": round(per_step["torch dropout"] / per_step["fast_dropout"], 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.batch_size < 1 or args.warmup < 0:
        ap.error("--steps and --batch-size must be >= 1, --warmup >= 0")
    facts = machine_facts()
    result = _run(args.steps, args.batch_size, args.warmup)
    result["machine"] = facts
    lines = [
        f"{result['steps']} steps each, batch {result['batch_size']} "
        f"(mean {result['mean_tokens_per_batch']} tokens), {result['precision']}, "
        f"{result['torch_threads']} threads",
        "",
        "| dropout masks | mean ms/step | median ms/step |",
        "|---|---|---|",
    ]
    for name, ms in result["ms_per_step"].items():
        lines.append(f"| {name} | {ms} | {result['median_ms_per_step'][name]} |")
    lines += ["", f"Speed-up of a training step: {result['speedup']}x", ""]
    title = "Classifier training step: torch dropout vs fast_dropout (side by side, one run)"
    print(write_results("training-step", title, result, lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
