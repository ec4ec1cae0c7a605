"""The unseen-voice dev set of the training experiments: rebuilt from the repository's history
in the layout the evaluation command reads, and still outside the training data."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from serving.screen_intent import evaluate
from serving.screen_intent.data import build_dataset, unseen_dev


def test_pair_rows_become_probe_rows_with_their_family_and_context() -> None:
    rows = [
        {
            "pair": "p-1",
            "rule": "yes-4",
            "context": [{"text": "look at my cart", "label": 1}],
            "text": "and the green one?",
            "label": 1,
        },
        {"pair": "p-1", "rule": "no-followup", "text": "is the total right", "label": 0},
    ]
    first, second = unseen_dev.probe_rows(rows)
    assert first == {
        "pair": "p-1",
        "rule": "yes-4",
        "label": 1,
        "text": "and the green one?",
        "context": [{"text": "look at my cart", "label": 1}],
    }
    assert second["context"] == [] and second["label"] == 0


def _has_commit() -> bool:
    done = subprocess.run(
        ["git", "-C", str(unseen_dev.ROOT), "cat-file", "-e", f"{unseen_dev.COMMIT}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.skipif(not _has_commit(), reason="no repository history here (shallow clone)")
def test_the_set_is_rebuilt_readable_and_not_trained_on(tmp_path: Path) -> None:
    counts = unseen_dev.build(tmp_path)
    assert counts == {"conversations": 60, "steps": 1045, "pair_lines": 364}
    conversations = evaluate.load_conversations(tmp_path)
    probes = evaluate.load_probes(tmp_path)
    assert sum(len(c.steps) for c in conversations) == 1045 and len(probes) == 364
    assert any(line.captured for case in probes for line in case.context)  # marks survive
    training = {
        build_dataset.strict_key(json.loads(line)["text"])
        for line in build_dataset.ensure_built(build_dataset.OUT_PATH)
        .read_text(encoding="utf-8")
        .splitlines()
        if line.strip()
    }
    lines = [text for c in conversations for text, _, _ in c.steps] + [p.text for p in probes]
    shared = [t for t in lines if build_dataset.strict_key(t) in training]
    # common phrases ("take a screenshot pls") may occur in both; the set itself must not
    # be back in the training data (then every line would be shared)
    assert len(shared) < 0.05 * len(lines), shared[:20]


def test_a_missing_commit_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"cannot read .* at commit"):
        unseen_dev.build(tmp_path, root=tmp_path)


@pytest.mark.skipif(not _has_commit(), reason="no repository history here (shallow clone)")
def test_policy_vetoes_never_fire_on_a_yes_of_the_unseen_set(tmp_path: Path) -> None:
    """A second, untrained check of the coded vetoes' precision (the first is the training
    rows): on the 1,409 rows of rounds eleven and twelve they fire only on "no" rows."""
    from serving.screen_intent.rules import policy_veto

    unseen_dev.build(tmp_path)
    cases = evaluate.load_probes(tmp_path) + [
        evaluate.Case("conversations", rule, label, text)
        for conversation in evaluate.load_conversations(tmp_path)
        for text, label, rule in conversation.steps
    ]
    fired = [(case.label, case.rule) for case in cases if policy_veto(case.text)]
    assert fired, "the vetoes fire on nothing here: the check would say nothing"
    assert [rule for label, rule in fired if label] == []
