"""Fast checks of the screen-intent data set (no torch, no transformers)."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO / "serving" / "screen_intent" / "data"
DATA = DATA_DIR / "screen_intent.jsonl"
FIELDS = {"id", "context", "text", "label", "split", "kind"}
ID_RE = re.compile(r"^si-\d{5}$")


def _key(row: dict) -> tuple[tuple[str, ...], str]:
    return tuple(row["context"]), row["text"]


def _norm(s: str) -> str:
    s = re.sub(r"[^a-z0-9' ]+", " ", s.lower().replace("\u2019", "'"))
    return re.sub(r"\s+", " ", s).strip()


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with DATA.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def test_schema(rows: list[dict]) -> None:
    ids = set()
    for row in rows:
        assert set(row) >= FIELDS, row
        assert ID_RE.match(row["id"]), row["id"]
        assert row["id"] not in ids, f"duplicate id {row['id']}"
        ids.add(row["id"])
        assert isinstance(row["context"], list)
        assert all(isinstance(c, str) and c.strip() for c in row["context"]), row
        assert isinstance(row["text"], str) and row["text"].strip(), row
        assert row["text"] == row["text"].strip()
        assert row["label"] in (0, 1) and not isinstance(row["label"], bool)
        assert row["split"] in ("train", "heldout")
        assert isinstance(row["kind"], str) and re.fullmatch(r"[a-z][a-z_]*", row["kind"])


def test_size_and_balance(rows: list[dict]) -> None:
    assert len(rows) >= 1500
    positive_share = sum(r["label"] for r in rows) / len(rows)
    assert 0.25 <= positive_share <= 0.40, positive_share
    for split in ("train", "heldout"):
        part = [r for r in rows if r["split"] == split]
        share = sum(r["label"] for r in part) / len(part)
        assert 0.22 <= share <= 0.45, (split, share)


def test_heldout_share(rows: list[dict]) -> None:
    share = sum(r["split"] == "heldout" for r in rows) / len(rows)
    assert 0.15 <= share <= 0.28, share


def test_multi_turn_cases(rows: list[dict]) -> None:
    multi = [r for r in rows if r["context"]]
    assert len(multi) >= 150
    assert {r["label"] for r in multi} == {0, 1}
    # The same utterance with different context and different labels must occur.
    labels_by_text: dict[str, set[int]] = defaultdict(set)
    for r in multi:
        labels_by_text[_norm(r["text"])].add(r["label"])
    assert sum(1 for s in labels_by_text.values() if s == {0, 1}) >= 10


def test_no_conflicting_duplicates(rows: list[dict]) -> None:
    labels: dict[tuple, set[int]] = defaultdict(set)
    for r in rows:
        labels[_key(r)].add(r["label"])
        labels[("norm", tuple(_norm(c) for c in r["context"]), _norm(r["text"]))].add(r["label"])
    conflicts = [k for k, v in labels.items() if len(v) > 1]
    assert not conflicts, conflicts[:5]


def test_no_exact_duplicates(rows: list[dict]) -> None:
    counts = Counter(_key(r) for r in rows)
    dupes = [k for k, n in counts.items() if n > 1]
    assert not dupes, dupes[:5]


def test_no_identical_pair_in_both_splits(rows: list[dict]) -> None:
    splits: dict[tuple, set[str]] = defaultdict(set)
    for r in rows:
        splits[(tuple(_norm(c) for c in r["context"]), _norm(r["text"]))].add(r["split"])
    leaks = [k for k, v in splits.items() if len(v) > 1]
    assert not leaks, leaks[:5]


def test_template_groups_do_not_straddle_splits(rows: list[dict]) -> None:
    if "group" not in rows[0]:
        pytest.skip("no group field")
    splits: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        splits[r["group"]].add(r["split"])
    assert all(len(v) == 1 for v in splits.values())


def test_every_kind_in_both_splits(rows: list[dict]) -> None:
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        by_kind[r["kind"]][r["split"]] += 1
    for kind, c in by_kind.items():
        assert c["train"] > 0 and c["heldout"] > 0, (kind, dict(c))
        assert c["train"] >= c["heldout"], (kind, dict(c))


def test_kinds_are_label_pure(rows: list[dict]) -> None:
    labels: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        labels[r["kind"]].add(r["label"])
    assert all(len(v) == 1 for v in labels.values()), labels


def test_generator_reproduces_the_file() -> None:
    spec = importlib.util.spec_from_file_location("build_dataset", DATA_DIR / "build_dataset.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    assert module.render(module.build()) == DATA.read_text(encoding="utf-8"), (
        "screen_intent.jsonl differs from what build_dataset.py writes: rerun it"
    )


def test_composed_conversations_stay_in_their_split(rows: list[dict]) -> None:
    """Composed rows (mt_shift, mt_again) reuse single-turn utterances, only within one split."""
    single_split: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if not r["context"]:
            single_split[_norm(r["text"])].add(r["split"])
    composed = [r for r in rows if r["kind"] in ("mt_shift", "mt_again")]
    assert len(composed) >= 300
    for r in composed:
        for line in [*r["context"], r["text"]]:
            assert single_split[_norm(line)] == {r["split"]}, (r["id"], line)
    # The case they exist for: a screen request earlier, an unrelated question now -> 0.
    screen_lines = {_norm(r["text"]) for r in rows if not r["context"] and r["label"] == 1}
    shifts = [r for r in composed if r["kind"] == "mt_shift"]
    assert all(r["label"] == 0 for r in shifts)
    with_screen = [r for r in shifts if any(_norm(c) in screen_lines for c in r["context"])]
    assert len(with_screen) >= 0.7 * len(shifts)
