"""The independent evaluation sets: their shape, their size, and that training never saw them."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from serving.screen_intent import evaluate
from serving.screen_intent.data import build_dataset

DATA_DIR = Path(evaluate.EVAL_DIR).parent
RULES = {f"yes-{i}" for i in range(1, 5)} | {f"no-{i}" for i in range(1, 13)}
STEP_RULES = RULES | {"no-general", "no-followup"}


def _rows(pattern: str) -> list[dict]:
    rows = []
    for path in sorted(evaluate.EVAL_DIR.glob(pattern)):
        with path.open(encoding="utf-8") as handle:
            rows.extend(json.loads(line) for line in handle if line.strip())
    return rows


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    return _rows("conversations_*.jsonl")


@pytest.fixture(scope="module")
def probes() -> list[dict]:
    return _rows("probes_*.jsonl")


def test_conversations_are_long_many_and_a_third_yes(conversations: list[dict]) -> None:
    assert len(conversations) >= 100
    steps = [step for c in conversations for step in c["steps"]]
    assert len(steps) >= 1200
    assert sum(step["label"] for step in steps) >= len(steps) / 3
    assert len({c["id"] for c in conversations}) == len(conversations)
    for conversation in conversations:
        assert 10 <= len(conversation["steps"]) <= 20, conversation["id"]
        for step in conversation["steps"]:
            assert step["label"] in (0, 1), conversation["id"]
            assert step["rule"] in STEP_RULES, (conversation["id"], step)
            assert step["text"].strip(), conversation["id"]


def test_probes_are_minimal_pairs_with_thirty_per_rule(probes: list[dict]) -> None:
    pairs: dict[str, list[dict]] = defaultdict(list)
    for row in probes:
        assert row["rule"] in RULES, row
        assert row["label"] in (0, 1), row
        assert isinstance(row["context"], list), row
        pairs[row["pair"]].append(row)
    for pair, rows in pairs.items():
        assert sorted(r["label"] for r in rows) == [0, 1], pair
        assert len({r["rule"] for r in rows}) == 1, pair
    per_rule = Counter(rows[0]["rule"] for rows in pairs.values())
    assert set(per_rule) == RULES, sorted(RULES - set(per_rule))
    assert min(per_rule.values()) >= 30, per_rule


def _norm(text: str) -> str:
    return build_dataset.strict_key(text)


def test_the_training_generator_knows_every_evaluation_line() -> None:
    """The generator drops training lines equal to an evaluation line; it reads only their
    hashes, which must match the sets (build_dataset.py --refresh-eval-hashes)."""
    assert sorted(build_dataset.EVAL_HASHES) == build_dataset.eval_line_hashes()


def test_no_evaluation_row_appears_in_the_training_data(
    conversations: list[dict], probes: list[dict]
) -> None:
    training = [
        json.loads(line)
        for line in build_dataset.ensure_built(DATA_DIR / "screen_intent.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    ]
    # A row of training is its current line (its context lines are rows of their own, except
    # where a hand-written conversation keeps an evaluation line as context only).
    trained = {_norm(row["text"]) for row in training}
    # A probe is a single line: any identical training line is a leak.
    leaked = [row["text"] for row in probes if _norm(row["text"]) in trained]
    # Conversation steps: a line of four words or more ("ok", "nice" may occur anywhere).
    leaked += [
        step["text"]
        for c in conversations
        for step in c["steps"]
        if len(_norm(step["text"]).split()) >= 4 and _norm(step["text"]) in trained
    ]
    assert not leaked, leaked[:20]


def test_evaluation_sets_hold_only_hand_written_files() -> None:
    names = sorted(p.name for p in evaluate.EVAL_DIR.iterdir() if p.is_file())
    assert all(re.fullmatch(r"(conversations|probes)_[a-z]\.jsonl|README\.md", n) for n in names)


def test_evaluate_refuses_a_batch_size_under_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        evaluate.main(["--batch-size", "0"])
    assert raised.value.code == 2
    assert "--batch-size must be 1 or more, got 0" in capsys.readouterr().err
