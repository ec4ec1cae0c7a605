"""Token budgets, prompt building and the chat_turn step, with the real embedded tokenizer."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common import paths
from serving.chat.prompt import PromptBuilder, chatml
from serving.chat.request import parse_request
from serving.token_budget import TokenBudget
from serving.turn_prompt import TurnDefaults, TurnError, build_turn

pytestmark = pytest.mark.skipif(
    not (paths.EMBEDDED_CHAT_DIR / "tokenizer.json").is_file(),
    reason="embedded chat model not prepared (scripts/setup.sh)",
)


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(paths.EMBEDDED_CHAT_DIR)


def test_truncation_keeps_an_exact_substring(tokenizer) -> None:  # type: ignore[no-untyped-def]
    budget = TokenBudget(tokenizer)
    text = "Héllo wörld, this is a long-ish sentence with emoji 😀 and more words."
    count, head = budget.measure(text, 5, "head")
    assert count > 5 and text.startswith(head) and budget.measure(head, 0, "head")[0] == 5
    _, tail = budget.measure(text, 5, "tail")
    assert text.endswith(tail) and budget.measure(tail, 0, "head")[0] <= 5
    assert budget.measure(text, 1000, "head") == (count, text)


# Chat-like text; tokenization of arbitrary code points (control characters, unassigned planes)
# is not compositional enough for any budget guarantee beyond "exact substring".
CHAT_TEXT = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "P", "Zs", "So")), max_size=120
)


@settings(max_examples=60, deadline=None)
@given(CHAT_TEXT, st.integers(min_value=1, max_value=20))
def test_truncation_property(tokenizer, text: str, limit: int) -> None:  # type: ignore[no-untyped-def]
    budget = TokenBudget(tokenizer)
    count, head = budget.measure(text, limit, "head")
    _, tail = budget.measure(text, limit, "tail")
    assert text.startswith(head) and text.endswith(tail)
    assert budget.measure(head, 0, "head")[0] <= limit
    assert budget.measure(tail, 0, "head")[0] <= limit + 1  # a leading space may merge differently
    if count <= limit:
        assert head == text == tail


def test_chat_template_and_phrase_bias(tokenizer) -> None:  # type: ignore[no-untyped-def]
    builder = PromptBuilder(tokenizer)
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    request = parse_request(
        {"messages": __import__("numpy").array([json.dumps(messages).encode()], dtype=object)},
        "",
        default_max_tokens=5,
    )
    text, ids = builder.build(request)
    assert text == chatml(messages)  # SmolLM2's template is ChatML
    assert ids == tokenizer.encode(text, add_special_tokens=False)
    bias = builder.phrase_logit_bias({"Well honey": -100.0, "~": -50.0})
    expected = set(tokenizer.encode("Well honey", add_special_tokens=False))
    assert expected <= set(bias) and all(bias[i] == -100.0 for i in expected)
    assert tokenizer.bos_token_id not in bias or tokenizer.bos_token_id in expected


def test_chatml_fallback() -> None:
    assert (
        chatml([{"role": "user", "content": "hi"}])
        == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
    )


def test_chat_turn_step_builds_messages_and_defaults() -> None:
    messages, sampling = build_turn("Persona", "User: a\nAssistant: b", "c", '{"temperature": 0.3}')
    assert json.loads(messages) == [
        {"role": "system", "content": "Persona"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    parsed = json.loads(sampling)
    assert parsed["temperature"] == 0.3 and parsed["top_k"] == 30 and "<|im_end|>" in parsed["stop"]
    assert parsed["phrase_bias"]["Oh honey"] == -100.0
    with pytest.raises(TurnError, match="not valid JSON"):
        build_turn("", "", "x", "{")
    with pytest.raises(TurnError, match="the turn is empty"):
        build_turn("", "", "  ", "{}")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"temperature": 1.9}, r"temperature must be between 0\.0 and 1\.2"),
        ({"temperature": "hot"}, "temperature must be a valid float"),
        ({"temperature": True}, "temperature must be a valid float"),
        ({"top_k": 2.5}, "top_k must be a valid int"),
        ({"top_k": 99}, "top_k must be between 0 and 60"),
        ({"top_p": float("nan")}, r"top_p must be between 0\.6 and 1\.0"),
        ({"max_tokens": "many"}, "max_tokens must be a valid int"),
        ({"max_tokens": 0}, "max_tokens must be a positive integer"),
        ({"phrase_bias": ["x"]}, "phrase_bias must be an object of text to number"),
        ({"phrase_bias": {"x": "low"}}, "phrase_bias must be an object of text to number"),
    ],
)
def test_chat_turn_step_rejects_bad_overrides_like_the_bridge(
    overrides: dict[str, object], message: str
) -> None:
    defaults = TurnDefaults.resolve({}, {})
    with pytest.raises(TurnError, match=message):
        build_turn("", "", "hi", json.dumps(overrides), defaults)


def test_chat_turn_step_accepts_edges_and_caps_max_tokens() -> None:
    defaults = TurnDefaults.resolve({}, {"CHAT_MAX_OUT": "50"})
    overrides = {"temperature": 1.2, "top_k": 60.0, "max_tokens": 500, "seed": 7, "top_p": None}
    _messages, sampling = build_turn("", "", "hi", json.dumps(overrides), defaults)
    parsed = json.loads(sampling)
    assert parsed["temperature"] == 1.2 and parsed["top_k"] == 60
    assert parsed["max_tokens"] == 50 and parsed["seed"] == 7 and parsed["top_p"] == 0.95
