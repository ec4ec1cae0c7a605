"""Calibration data: the shipped sets, user files, hub names, selection and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from quantize import calibration as cal


class FakeTokenizer:
    """Whitespace tokenizer with a ChatML-like template (enough to test rendering)."""

    chat_template = "chatml"

    def apply_chat_template(
        self,
        messages: list[dict[str, str]],
        tokenize: bool = False,
        add_generation_prompt: bool = False,
    ) -> str:
        text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return text + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [len(word) for word in text.split()]}


def test_shipped_sets_are_big_enough_and_disjoint() -> None:
    calibration = cal.load_file(cal.SHIPPED_CALIBRATION)
    heldout = cal.load_file(cal.SHIPPED_HELDOUT)
    assert len(calibration) >= 200
    assert len(heldout) >= 40
    for sample in calibration + heldout:
        assert isinstance(sample, list) and sample[-1]["role"] == "assistant"
        assert all(m["content"].strip() for m in sample)
    questions = {json.dumps(s[:-1]) for s in calibration}
    assert not [s for s in heldout if json.dumps(s[:-1]) in questions]
    # Modest size: tens of KB, not a data dump.
    assert cal.SHIPPED_CALIBRATION.stat().st_size < 200_000


def test_parse_source_kinds(tmp_path: Path) -> None:
    assert cal.parse_source("shipped").kind == "shipped"
    assert cal.parse_source("").location == str(cal.SHIPPED_CALIBRATION)
    hub = cal.parse_source("hub:org/chats:validation")
    assert (hub.kind, hub.location, hub.split) == ("hub", "org/chats", "validation")
    assert cal.parse_source("hub:org/chats").split == "train"
    file = tmp_path / "mine.txt"
    file.write_text("one\n\ntwo\n")
    assert cal.parse_source(str(file)) == cal.CalibrationSource("file", str(file.resolve()))


def test_missing_file_says_what_is_accepted(tmp_path: Path) -> None:
    with pytest.raises(cal.CalibrationError, match=r"does not exist.*'shipped'.*hub:NAME"):
        cal.parse_source(str(tmp_path / "nope.jsonl"))


def test_unknown_file_format(tmp_path: Path) -> None:
    file = tmp_path / "data.csv"
    file.write_text("a,b\n")
    with pytest.raises(cal.CalibrationError, match=r"unknown format '\.csv'"):
        cal.parse_source(str(file))


def test_hub_without_a_name() -> None:
    with pytest.raises(cal.CalibrationError, match="needs a dataset name"):
        cal.parse_source("hub:")


def test_file_formats() -> None:
    assert cal.parse_text("a.txt", "first passage\nstill first\n\n\nsecond\n", ".txt") == [
        "first passage\nstill first",
        "second",
    ]
    chat = {
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    }
    jsonl = "\n".join([json.dumps({"text": "plain"}), "", json.dumps(chat), json.dumps("bare")])
    assert cal.parse_text("a.jsonl", jsonl, ".jsonl") == ["plain", chat["messages"], "bare"]
    assert cal.parse_text("a.json", json.dumps([chat, {"text": "t"}]), ".json") == [
        chat["messages"],
        "t",
    ]


@pytest.mark.parametrize(
    ("suffix", "text", "message"),
    [
        (".jsonl", '{"text": "ok"}\n{broken', r"a\.jsonl:2 is not valid JSON"),
        (".jsonl", '{"prompt": "x"}', r"a\.jsonl:1: expected a string, or an object with 'text'"),
        (".json", '{"text": "x"}', "expected a JSON list"),
        (".json", "[1, 2]", r"a\.json\[0\]: expected"),
        (".jsonl", '{"messages": [{"role": "user"}]}', "'messages'"),
    ],
)
def test_bad_files_point_at_the_problem(suffix: str, text: str, message: str) -> None:
    with pytest.raises(cal.CalibrationError, match=message):
        cal.parse_text(f"a{suffix}", text, suffix)


def test_selection_is_reproducible_and_keeps_file_order() -> None:
    samples = [f"s{i}" for i in range(50)]
    first = cal.select(samples, 10, seed=3)
    assert first == cal.select(samples, 10, seed=3)
    assert first != cal.select(samples, 10, seed=4)
    assert first == sorted(first, key=lambda sample: samples.index(str(sample)))
    assert cal.select(samples, 50) == samples


def test_not_enough_samples_says_how_many_there_are() -> None:
    with pytest.raises(cal.NotEnoughCalibrationData, match=r"only 3; pass --samples 3 or fewer"):
        cal.select(["a", "b", "c"], 4)
    with pytest.raises(cal.CalibrationError, match="at least 1"):
        cal.select(["a"], 0)


def test_chats_are_rendered_with_the_template_and_truncated() -> None:
    tokenizer = FakeTokenizer()
    chat = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "hi"}]
    assert cal.render(chat, tokenizer).startswith("<|im_start|>user\nhello there<|im_end|>")
    assert cal.render("plain words", tokenizer) == "plain words"
    ids = cal.tokenize(["one two three four five six seven eight nine ten"], tokenizer, seq_len=8)
    assert ids == [[3, 3, 5, 4, 4, 3, 5, 5]]
    with pytest.raises(cal.CalibrationError, match="sample 0 is empty"):
        cal.tokenize(["   "], tokenizer, seq_len=16)
    with pytest.raises(cal.CalibrationError, match="--seq-len must be at least 8"):
        cal.tokenize(["x"], tokenizer, seq_len=4)


def test_prepare_records_what_was_used(tmp_path: Path) -> None:
    file = tmp_path / "mine.txt"
    file.write_text("\n\n".join(f"passage number {i}" for i in range(12)))
    found = cal.prepare(cal.parse_source(str(file)), FakeTokenizer(), samples=5, seq_len=16)
    described = found.describe()
    assert (described["samples"], described["available_samples"], described["tokens"]) == (
        5,
        12,
        15,
    )
    assert described["fingerprint"].startswith("sha256:")
    assert described["kind"] == "file"
    file.write_text("something else")
    assert cal.fingerprint(cal.parse_source(str(file))) != described["fingerprint"]


def test_hub_dataset_is_refused_at_once_when_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        cal.CalibrationError, match=r"hub is not reachable here \(HF_HUB_OFFLINE=1\)"
    ):
        cal.load_samples(cal.parse_source("hub:org/chats"), limit=8)


def test_offline_flags() -> None:
    assert cal.hub_offline({"HF_HUB_OFFLINE": "true"})
    assert cal.hub_offline({"HF_DATASETS_OFFLINE": "1"})
    assert not cal.hub_offline({"HF_HUB_OFFLINE": "0"})
    assert not cal.hub_offline({})
