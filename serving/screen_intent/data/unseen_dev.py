"""Rebuild the unseen-voice dev set of the training experiments from the repository's history.

Rounds eleven and twelve of the hand-written data (three conversation files, three files of
minimal pairs with contexts) were committed and then taken out of the training data again;
since then they serve as a dev set that no shipped model has trained on. They stay out of the
working tree (so that nothing trains on them by accident) and are read back from the commit
that still holds them, written in the layout ``evaluate --folder`` reads:

    python -m serving.screen_intent.data.unseen_dev --output /tmp/dev12
    python -m serving.screen_intent.evaluate --folder /tmp/dev12 --model DIR

Needs the repository's history (not a shallow clone). Choices are made on this set; the
evaluation sets in ``eval/`` only report the result.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
#: The last commit whose training data held rounds eleven and twelve.
COMMIT = "dd767f842e83f2b34d0f1c091b5fa0c6204f500c"
FOLDER = "serving/screen_intent/data/training/conversations"
CONVERSATIONS = ("handwritten_2a", "handwritten_2b", "handwritten_2c")
PAIRS = ("handwritten_pairs_d", "handwritten_pairs_e", "handwritten_pairs_g")


def probe_rows(pair_rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Minimal-pair training rows (``pair``, ``rule``, ``context``, ``text``, ``label``) as
    probe rows: the context as given (strings, or ``{"text", "label"}`` where a line was
    captured), the pair kept as the family."""
    for row in pair_rows:
        yield {
            "pair": str(row["pair"]),
            "rule": str(row["rule"]),
            "label": int(row["label"]),
            "text": str(row["text"]),
            "context": list(row.get("context") or ()),
        }


def _show(path: str, root: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), "show", f"{COMMIT}:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"cannot read {path} at commit {COMMIT[:12]} (a shallow clone has no history: "
            f"git fetch --unshallow): {done.stderr.strip()}"
        )
    return done.stdout


def _rows(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def build(output: Path, root: Path = ROOT) -> dict[str, int]:
    """Write ``conversations_*.jsonl`` and ``probes_*.jsonl`` to ``output``; return counts."""
    output.mkdir(parents=True, exist_ok=True)
    counts = {"conversations": 0, "steps": 0, "pair_lines": 0}
    for name in CONVERSATIONS:
        text = _show(f"{FOLDER}/{name}.jsonl", root)
        rows = _rows(text)
        counts["conversations"] += len(rows)
        counts["steps"] += sum(len(row["steps"]) for row in rows)
        (output / f"conversations_{name}.jsonl").write_text(text, encoding="utf-8")
    for name in PAIRS:
        probes = list(probe_rows(_rows(_show(f"{FOLDER}/{name}.jsonl", root))))
        counts["pair_lines"] += len(probes)
        (output / f"probes_{name}.jsonl").write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in probes),
            encoding="utf-8",
        )
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--output", type=Path, required=True, help="folder to write the set to")
    args = ap.parse_args(argv)
    try:
        counts = build(args.output)
    except RuntimeError as exc:
        print(f"unseen_dev: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.output}: {counts['conversations']} conversations ({counts['steps']} steps), "
        f"{counts['pair_lines']} pair lines"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
