"""The embedded classifier's CPU runtimes answer alike: int8 ONNX Runtime against torch fp32.

Serving runs the int8 export on every CPU by default (it is 2-3x faster than torch there), so
it must keep the decisions of the torch model that the training made. Measured on the
dev rows of the training data, never on the evaluation sets.
"""

from __future__ import annotations

import random

import pytest

from common import paths
from serving.screen_intent.classifier import ClassifierConfig, ScreenIntentClassifier
from serving.screen_intent.data.build_dataset import ensure_built
from serving.screen_intent.features import ContextLine
from serving.screen_intent.training import load_examples

pytestmark = pytest.mark.skipif(
    not (paths.EMBEDDED_SCREEN_INTENT_DIR / "config.json").is_file(),
    reason="the embedded classifier is not prepared (scripts/setup.sh)",
)


def _classifier(**env: str) -> ScreenIntentClassifier:
    environ = {"TOOL_LANGUAGE_FILTER": "false", **env}
    return ScreenIntentClassifier(ClassifierConfig.resolve({}, environ))


@pytest.fixture(scope="module")
def dev_items() -> list[tuple[str, tuple[ContextLine, ...]]]:
    rows = [e for e in load_examples(ensure_built()) if e.split == "dev"]
    chosen = random.Random(7).sample(rows, 400)
    return [
        (e.text, tuple(ContextLine(t, c) for t, c in zip(e.context, e.captured, strict=True)))
        for e in chosen
    ]


def test_int8_onnx_keeps_the_fp32_decisions(
    dev_items: list[tuple[str, tuple[ContextLine, ...]]],
) -> None:
    fp32 = _classifier(TOOL_CPU_BF16="false", TOOL_CPU_INT8="false")
    int8 = _classifier()  # the default on every CPU
    assert (fp32.runtime, int8.runtime) == ("torch-fp32", "onnx-int8")
    want = [d for start in range(0, 400, 32) for d in fp32.classify(dev_items[start : start + 32])]
    got = [d for start in range(0, 400, 32) for d in int8.classify(dev_items[start : start + 32])]
    same = sum(a.decision == b.decision for a, b in zip(want, got, strict=True))
    drift = max(abs(a.probability - b.probability) for a, b in zip(want, got, strict=True))
    # measured on all dev rows: 99.5 % of the decisions kept (an fp32-trained model), 98.9 %
    # (a bf16-trained one); 97 % of 400 leaves room for the sample, not for a broken export
    assert same >= 0.97 * len(want), f"only {same} of {len(want)} decisions kept"
    assert drift < 0.5, f"a probability moved by {drift:.3f}"
    # batching moves nothing: dynamic quantisation scales the activations over the whole
    # input, so the classifier runs the int8 session one row at a time, and a row alone gets
    # the probability it gets in a batch, to the bit
    for index in (5, 17, 101):
        alone = int8.classify([dev_items[index]])[0]
        assert alone.probability == got[index].probability


def test_switching_int8_off_keeps_torch() -> None:
    classifier = _classifier(TOOL_CPU_BF16="false", TOOL_CPU_INT8="false")
    assert classifier.runtime == "torch-fp32" and classifier.int8 is None


def test_policy_vetoes_turn_only_a_yes_into_a_no() -> None:
    """At threshold 0 the model says yes to everything, so what comes out is the vetoes' work:
    a count other than one or a "don't look" is a no, naming its rule; other lines stay yes;
    TOOL_POLICY_RULES=false switches the vetoes off."""
    lines = [
        ("take a screenshot of my laptop and my phone", "no-1"),
        ("screenshot it every thirty seconds", "no-1"),
        ("hang on, don't look, typing my pin", "no-2"),
        ("take one screenshot of this", None),
        ("wait till you see this", None),
    ]
    items = [(text, ()) for text, _ in lines]
    on = _classifier(TOOL_DECISION_THRESHOLD="0").classify(items)
    assert [(d.decision, d.veto) for d in on] == [(rule is None, rule) for _, rule in lines]
    off = _classifier(TOOL_DECISION_THRESHOLD="0", TOOL_POLICY_RULES="false").classify(items)
    assert [(d.decision, d.veto) for d in off] == [(True, None)] * len(lines)
    assert [d.probability for d in on] == pytest.approx([d.probability for d in off], abs=1e-6)
