"""Measure the screen-intent router on the independent evaluation sets, as it serves.

``python -m serving.screen_intent.evaluate [--model DIR] [--threshold P] [--json FILE]``

The sets live in ``data/eval/`` and are never trained on or tuned against (``data/README.md``
says how they were made):

- ``conversations_*.jsonl``: hand-written conversations of app use, one object per line with
  ``steps`` (``text``, gold ``label``, the deciding ``rule``). Steps are classified in order,
  the way the bridge does it: the context of step *i* is the earlier user lines, each marked
  captured where **the router itself** said yes (not the gold label), so an early mistake costs
  what it would cost a user.
- ``probes_*.jsonl``: minimal pairs per policy rule (``pair``, ``rule``, ``context`` with the
  gold capture labels of the earlier lines, ``text``, ``label``).

The classifier is the serving class (``ScreenIntentClassifier``, vetoes and language filter
included) with the serving threshold, one turn per call (``--batch-size 1``), as the bridge
sends them. (Until 2026-12-04 the int8 runtime ran batches as one input, and its dynamic
quantisation, which scales activations over the whole input, moved rows next to the threshold
with the batch; it now runs one row at a time, so batches change nothing.) Printed: per set
accuracy, precision, recall on "yes", and the accuracy of every rule's slice, against the
targets below.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from serving.screen_intent.features import ContextLine

EVAL_DIR = Path(__file__).resolve().parent / "data" / "eval"
TARGETS = {"accuracy": 0.95, "recall": 0.93, "precision": 0.95, "rule": 0.90}


@dataclass(frozen=True)
class Case:
    """One classified turn of an evaluation set."""

    set_name: str
    rule: str
    label: int
    text: str
    context: tuple[ContextLine, ...] = ()


@dataclass(frozen=True)
class Conversation:
    id: str
    steps: tuple[tuple[str, int, str], ...]  # (text, label, rule)


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise SystemExit(f"{path}:{lineno}: not JSON ({exc})") from None


def load_conversations(folder: Path = EVAL_DIR) -> list[Conversation]:
    out = []
    for path in sorted(folder.glob("conversations_*.jsonl")):
        for row in _jsonl(path):
            steps = tuple(
                (str(s["text"]), int(s["label"]), str(s.get("rule", ""))) for s in row["steps"]
            )
            out.append(Conversation(str(row["id"]), steps))
    return out


def load_probes(folder: Path = EVAL_DIR) -> list[Case]:
    out = []
    for path in sorted(folder.glob("probes_*.jsonl")):
        for row in _jsonl(path):
            context = tuple(
                ContextLine(str(c["text"]), int(c.get("label", 0)) == 1)
                if isinstance(c, dict)
                else ContextLine(str(c))
                for c in row.get("context") or ()
            )
            out.append(Case("probes", str(row["rule"]), int(row["label"]), row["text"], context))
    return out


#: ``--runtime``: the settings that pick the classifier's CPU runtime ("serving": as served here).
RUNTIMES: dict[str, dict[str, str]] = {
    "serving": {},
    "onnx-int8": {"TOOL_CPU_INT8": "true"},
    "torch-bf16": {"TOOL_CPU_INT8": "false", "TOOL_CPU_BF16": "true"},
    "torch-fp32": {"TOOL_CPU_INT8": "false", "TOOL_CPU_BF16": "false"},
}


class Classify:
    """``(utterance, context) -> yes?`` for a batch; the serving classifier by default."""

    def __init__(
        self,
        model: Path | None,
        threshold: float | None,
        runtime: str = "serving",
        batch_size: int = 1,
    ) -> None:
        from serving.screen_intent.classifier import ClassifierConfig, ScreenIntentClassifier

        environ = dict(os.environ)
        environ.update(RUNTIMES[runtime])
        if model is not None:
            environ["TOOL_MODEL"] = str(model)
        if threshold is not None:
            environ["TOOL_DECISION_THRESHOLD"] = str(threshold)
        self.config = ClassifierConfig.resolve({}, environ)
        self.classifier = ScreenIntentClassifier(self.config)
        self.batch_size = batch_size

    def __call__(self, items: Sequence[tuple[str, Sequence[ContextLine]]]) -> list[bool]:
        out: list[bool] = []
        size = self.batch_size
        for start in range(0, len(items), size):
            out.extend(d.decision for d in self.classifier.classify(items[start : start + size]))
        return out


def run_conversations(
    conversations: Sequence[Conversation], classify: Any
) -> list[tuple[Case, bool]]:
    """Classify every step in order, each conversation's context marked by its own decisions."""
    decided: dict[str, list[bool]] = {c.id: [] for c in conversations}
    results: list[tuple[Case, bool]] = []
    longest = max((len(c.steps) for c in conversations), default=0)
    for step in range(longest):
        active = [c for c in conversations if step < len(c.steps)]
        cases = []
        for conversation in active:
            context = tuple(
                ContextLine(text, captured)
                for (text, _, _), captured in zip(
                    conversation.steps[:step], decided[conversation.id], strict=True
                )
            )
            text, label, rule = conversation.steps[step]
            cases.append(Case("conversations", rule, label, text, context))
        answers = classify([(case.text, case.context) for case in cases])
        for conversation, case, yes in zip(active, cases, answers, strict=True):
            decided[conversation.id].append(yes)
            results.append((case, yes))
    return results


def run_cases(cases: Sequence[Case], classify: Any) -> list[tuple[Case, bool]]:
    answers = classify([(case.text, case.context) for case in cases])
    return list(zip(cases, answers, strict=True))


def summarise(results: Sequence[tuple[Case, bool]]) -> dict[str, Any]:
    tp = sum(1 for c, yes in results if yes and c.label)
    fp = sum(1 for c, yes in results if yes and not c.label)
    fn = sum(1 for c, yes in results if not yes and c.label)
    n = len(results)
    by_rule: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case, yes in results:
        by_rule[case.rule][0] += int(yes == bool(case.label))
        by_rule[case.rule][1] += 1
    return {
        "n": n,
        "yes": sum(c.label for c, _ in results),
        "accuracy": round((n - fp - fn) / n, 4) if n else 0.0,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "rules": {
            rule: {"n": total, "accuracy": round(right / total, 4)}
            for rule, (right, total) in sorted(by_rule.items(), key=lambda kv: _rule_order(kv[0]))
        },
    }


def _rule_order(rule: str) -> tuple[int, int, str]:
    side, _, number = rule.partition("-")
    return ({"yes": 0, "no": 1}.get(side, 2), int(number) if number.isdigit() else 99, rule)


def errors(results: Sequence[tuple[Case, bool]], limit: int = 60) -> list[dict[str, Any]]:
    out = []
    for case, yes in results:
        if yes != bool(case.label):
            out.append(
                {
                    "set": case.set_name,
                    "rule": case.rule,
                    "label": case.label,
                    "context": [
                        ("[captured] " if c.captured else "") + c.text for c in case.context[-3:]
                    ],
                    "text": case.text,
                }
            )
    return out[:limit]


def table(report: dict[str, Any]) -> str:
    """The markdown table the README shows."""
    sets = [name for name in ("conversations", "probes") if name in report["sets"]]
    lines = [
        "| figure | target | " + " | ".join(sets) + " |",
        "|---|---|" + "---|" * len(sets),
    ]

    def mark(value: float | None, target: float) -> str:
        if value is None:
            return "-"
        return f"{value:.3f}" + ("" if value >= target else " ✗")

    for key, label in (("accuracy", "step accuracy"), ("recall", "recall (yes)")):
        cells = [mark(report["sets"][s][key], TARGETS[key]) for s in sets]
        lines.append(f"| {label} | ≥ {TARGETS[key]} | " + " | ".join(cells) + " |")
    cells = [mark(report["sets"][s]["precision"], TARGETS["precision"]) for s in sets]
    lines.append(f"| precision | ≥ {TARGETS['precision']} | " + " | ".join(cells) + " |")
    counts = [f"{report['sets'][s]['n']} ({report['sets'][s]['yes']} yes)" for s in sets]
    lines.append("| rows | | " + " | ".join(counts) + " |")
    rules = sorted({rule for s in sets for rule in report["sets"][s]["rules"]}, key=_rule_order)
    for rule in rules:
        cells = []
        for s in sets:
            found = report["sets"][s]["rules"].get(rule)
            cells.append(
                f"{mark(found['accuracy'], TARGETS['rule'])} ({found['n']})" if found else "-"
            )
        lines.append(f"| rule {rule} | ≥ {TARGETS['rule']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def evaluate(
    model: Path | None = None,
    threshold: float | None = None,
    folder: Path = EVAL_DIR,
    runtime: str = "serving",
    batch_size: int = 1,
) -> dict[str, Any]:
    started = time.monotonic()
    classify = Classify(model, threshold, runtime, batch_size)
    conversations = run_conversations(load_conversations(folder), classify)
    probes = run_cases(load_probes(folder), classify)
    sets = {"conversations": summarise(conversations), "probes": summarise(probes)}
    report: dict[str, Any] = {
        "model": str(classify.config.model),
        "threshold": classify.config.threshold,
        "runtime": classify.classifier.runtime,
        "batch_size": batch_size,
        "sets": sets,
        "errors": errors(conversations) + errors(probes),
        "seconds": round(time.monotonic() - started, 1),
    }
    report["passed"] = all(
        figures[key] >= TARGETS[key]
        for figures in sets.values()
        for key in ("accuracy", "recall", "precision")
    ) and all(
        found["accuracy"] >= TARGETS["rule"]
        for figures in sets.values()
        for found in figures["rules"].values()
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: TOOL_MODEL")
    parser.add_argument("--threshold", type=float, default=None, help="default: serving's")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong rows")
    parser.add_argument(
        "--folder",
        type=Path,
        default=EVAL_DIR,
        help="folder of conversations_*.jsonl / probes_*.jsonl (default: the evaluation sets)",
    )
    parser.add_argument(
        "--runtime",
        choices=sorted(RUNTIMES),
        default="serving",
        help="the classifier's CPU runtime (default: the one serving picks on this CPU)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="turns per classifier call (default 1: one per request, as the bridge sends them)",
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch-size must be 1 or more, got {args.batch_size}")
    if not args.folder.is_dir():
        parser.error(f"--folder {args.folder}: not a folder")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    report = evaluate(args.model, args.threshold, args.folder, args.runtime, args.batch_size)
    print(
        f"model {report['model']} ({report['runtime']}, batches of {args.batch_size}) at "
        f"threshold {report['threshold']} ({report['seconds']} s)"
    )
    print(table(report))
    for row in report["errors"][: args.errors]:
        print(json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print("all targets met" if report["passed"] else "targets missed (✗)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
