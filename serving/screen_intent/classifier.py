"""The screen-intent classifier (the tool router) as served by Triton; importable without it.

Input: the current utterance and the earlier user lines of the conversation (oldest first),
each marked when the screen was captured at it. The classifier sees the sentence pair of
``features.model_input`` (the training contract), with as many of the newest earlier lines as
fit in the history token budget; the tokenizer truncates on the left, so the oldest text is
what gets cut. Output: ``p(screen)`` and the decision at the threshold.

Two vetoes run only on "yes" answers, so ordinary turns never pay for them: the coded no-1 and
no-2 rules of ``rules.policy_veto`` (a capture asked for with a count other than one, or a line
that says not to look) and a language filter (lingua) for an utterance that is confidently not
English (no-12).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import paths
from common.settings import Bool, Float, Int, Setting, SettingsError, Text, resolve
from quantize.hardware import cpu_flags, has_fast_bf16_cpu
from serving.screen_intent.features import (
    CONTEXT_MAX_LINES,
    ContextLine,
    encode_pairs,
    model_input,
    render_line,
)
from serving.screen_intent.onnx_int8 import ExportError, Int8Session, ensure_int8
from serving.screen_intent.rules import policy_veto

SCREEN_INTENT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TOOL_MODEL",
        Text(),
        str(paths.EMBEDDED_SCREEN_INTENT_DIR),
        "sequence-classification checkpoint folder (label 1 or the last label = screen)",
        parameter="model",
    ),
    Setting(
        "TOOL_DECISION_THRESHOLD",
        Float(0.0, 1.0),
        0.66,
        "yes when p(screen) >= threshold",
        parameter="threshold",
    ),
    Setting(
        "TOOL_MAX_LENGTH",
        Int(8),
        1536,
        "max classifier input tokens (also capped by the tokenizer's model_max_length)",
        parameter="max_length",
    ),
    Setting(
        "TOOL_HISTORY_TOKENS",
        Int(0),
        160,
        "budget for earlier user lines, in classifier tokens",
        parameter="history_tokens",
    ),
    Setting(
        "TOOL_LANGUAGE_FILTER",
        Bool(),
        True,
        "veto yes for an utterance that is confidently not English (lingua)",
        parameter="language_filter",
    ),
    Setting(
        "TOOL_POLICY_RULES",
        Bool(),
        True,
        "veto yes for a line whose words make it a no by rule no-1 (a count other than one) "
        "or no-2 (do not look)",
        parameter="policy_rules",
    ),
    Setting("TOOL_TORCH_THREADS", Int(1), 1, "torch CPU threads", parameter="threads"),
    Setting(
        "TOOL_CPU_BF16",
        Bool(),
        True,
        "where int8 is off: bf16 autocast on CPUs with AVX512-BF16/AMX; false: float32",
        parameter="cpu_bf16",
    ),
    Setting(
        "TOOL_CPU_INT8",
        Bool(),
        True,
        "on a CPU: an int8 ONNX Runtime export of TOOL_MODEL (made once, cached; 7-10 ms "
        "a turn where torch takes 22-43 ms); false: torch (TOOL_CPU_BF16)",
        parameter="cpu_int8",
    ),
)

# Languages the filter tells apart; a small set keeps lingua fast and keeps short English
# utterances from being "detected" as Zulu or Tswana.
FILTER_LANGUAGES = (
    "ENGLISH",
    "SPANISH",
    "FRENCH",
    "GERMAN",
    "PORTUGUESE",
    "ITALIAN",
    "DUTCH",
    "RUSSIAN",
    "POLISH",
    "TURKISH",
    "ARABIC",
    "HINDI",
    "CHINESE",
    "JAPANESE",
    "KOREAN",
    "VIETNAMESE",
    "INDONESIAN",
    "UKRAINIAN",
    "SWEDISH",
    "ROMANIAN",
)
#: A text whose letters are mostly of another script than Latin is not English, however short
#: (lingua needs words; Chinese, Japanese and Thai do not separate them with spaces).
MAX_NON_LATIN_SHARE = 0.5


def non_latin_share(text: str) -> float:
    """The share of the text's letters that are not Latin letters."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    other = sum(1 for ch in letters if not unicodedata.name(ch, "").startswith("LATIN"))
    return other / len(letters)


def cpu_runtime(cpu_int8: bool, cpu_bf16: bool, flags: frozenset[str]) -> str:
    """The runtime the classifier picks on a CPU with ``flags`` (before an export can fail)."""
    if cpu_int8:
        return "onnx-int8"
    return "torch-bf16" if cpu_bf16 and has_fast_bf16_cpu(flags) else "torch-fp32"


@dataclass(frozen=True)
class Decision:
    probability: float
    decision: bool
    english: bool = True
    #: the coded rule that vetoed the model's "yes" ("no-1", "no-2"), if any
    veto: str | None = None


class EnglishFilter:
    """``is_english(text)`` is False only when the text is confidently another language.

    Short voice utterances and slang give lingua little to go on ("rate my fit" scores 0.22
    English), so the veto needs a non-English top language *and* an English confidence below
    ``max_english``; texts under ``min_words`` words pass, unless most of their letters are of
    another script than Latin. Models are preloaded at start
    (about 2 s, a few hundred MB): lazy loading cost 2.5 s on the first "yes" of a session.
    """

    def __init__(self, max_english: float = 0.07, min_words: int = 2) -> None:
        self.max_english = max_english
        self.min_words = min_words
        try:
            from lingua import Language, LanguageDetectorBuilder

            languages = [getattr(Language, name) for name in FILTER_LANGUAGES]
            builder = LanguageDetectorBuilder.from_languages(*languages)
            self._detector: Any = builder.with_preloaded_language_models().build()
            self._english = Language.ENGLISH
        except ImportError:  # fail open, as a missing optional dependency should
            self._detector = None

    def is_english(self, text: str) -> bool:
        text = text.strip()
        if non_latin_share(text) > MAX_NON_LATIN_SHARE:
            return False
        if self._detector is None or len(text.split()) < self.min_words:
            return True
        try:
            found = self._detector.compute_language_confidence_values(text)
            english = self._detector.compute_language_confidence(text, self._english)
        except Exception:
            return True
        if not found or found[0].language == self._english:
            return True
        return bool(english >= self.max_english)


@dataclass(frozen=True)
class ClassifierConfig:
    model: Path
    threshold: float
    max_length: int
    history_tokens: int
    language_filter: bool
    policy_rules: bool
    threads: int
    cpu_bf16: bool
    cpu_int8: bool
    summary: str

    @classmethod
    def resolve(
        cls,
        parameters: Mapping[str, str],
        environ: Mapping[str, str] = os.environ,
        *,
        model_name: str = "screen_intent",
    ) -> ClassifierConfig:
        found = resolve(SCREEN_INTENT_SETTINGS, parameters, environ, model_name=model_name)
        model = Path(found["model"]).expanduser()
        if not (model / "config.json").is_file():
            raise SettingsError(
                f"model '{model_name}': TOOL_MODEL={model} is not a checkpoint folder (no "
                "config.json); run scripts/setup.sh to train the embedded classifier, or point "
                "TOOL_MODEL at a sequence-classification checkpoint"
            )
        return cls(
            model=model.resolve(),
            threshold=found["threshold"],
            max_length=found["max_length"],
            history_tokens=found["history_tokens"],
            language_filter=found["language_filter"],
            policy_rules=found["policy_rules"],
            threads=found["threads"],
            cpu_bf16=found["cpu_bf16"],
            cpu_int8=found["cpu_int8"],
            summary=found.describe(),
        )


class ScreenIntentClassifier:
    """Runs on CUDA in fp16 where there is a GPU; on a CPU as an int8 ONNX Runtime session
    (``onnx_int8``); where that is switched off or the checkpoint cannot be exported, in torch,
    with bf16 autocast on a CPU with fast bf16 matmuls, else in fp32. ``runtime`` says which.

    Measured through Triton at concurrency 1 on 2-core EPYCs: int8 7-10 ms p50 with
    AVX512-BF16 (torch bf16 22 ms, fp32 25 ms); on an AVX2-only one torch fp32 took 43 ms.
    """

    def __init__(
        self, config: ClassifierConfig, *, log: Callable[[str], None] | None = None
    ) -> None:
        import torch
        from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

        torch.set_num_threads(config.threads)
        self.config = config
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(config.model)
        self.tokenizer.truncation_side = "left"
        device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        model_config = AutoConfig.from_pretrained(config.model)
        flags = cpu_flags()
        # torch without int8: bf16 matmuls where the CPU has them (AVX512-BF16/AMX), for the
        # same decisions (the embedded model is trained with the same autocast there).
        self.cpu_bf16 = device == "cpu" and config.cpu_bf16 and has_fast_bf16_cpu(flags)
        limit = getattr(self.tokenizer, "model_max_length", None) or config.max_length
        self.max_length = min(
            config.max_length, int(limit) if limit < 1_000_000 else config.max_length
        )
        labels = int(model_config.num_labels)
        self.yes_index = 1 if labels >= 2 else 0
        self.is_longformer = "longformer" in str(model_config.model_type)
        self.language = EnglishFilter() if config.language_filter else None
        self.int8: Int8Session | None = None
        planned = cpu_runtime(config.cpu_int8, config.cpu_bf16, flags)
        if device == "cpu" and planned == "onnx-int8" and not self.is_longformer:
            try:
                self.int8 = Int8Session(ensure_int8(config.model, log=log), config.threads)
            except ExportError as exc:
                if log:
                    log(f"{exc}; running the classifier in torch instead")
        # torch loads the weights only when it answers (the int8 session holds its own copy)
        self.model: Any = None
        if self.int8 is None:
            dtype = torch.float16 if device == "cuda" else torch.float32
            self.model = AutoModelForSequenceClassification.from_pretrained(
                config.model, dtype=dtype
            )
            self.model.to(device).eval()
        if log:
            log(f"classifier runtime: {self.runtime}")

    @property
    def runtime(self) -> str:
        """Which engine and precision answer: ``onnx-int8``, ``torch-bf16``, ``torch-fp32`` or
        ``cuda-fp16``."""
        if self.int8 is not None:
            return "onnx-int8"
        if self.device == "cuda":
            return "cuda-fp16"
        return "torch-bf16" if self.cpu_bf16 else "torch-fp32"

    def model_input(self, utterance: str, earlier: Sequence[str | ContextLine]) -> tuple[str, str]:
        """The sentence pair for one turn (``features.model_input``), with the earlier lines cut
        to the newest that fit ``TOOL_HISTORY_TOKENS``."""
        lines = [line if isinstance(line, ContextLine) else ContextLine(line) for line in earlier]
        lines = [line for line in lines if line.text.strip()][-CONTEXT_MAX_LINES:]
        kept: list[ContextLine] = []
        used = 0
        for line in reversed(lines):
            cost = len(self.tokenizer.encode(render_line(line), add_special_tokens=False)) + 1
            if used + cost > self.config.history_tokens:
                break
            kept.append(line)
            used += cost
        return model_input(utterance, reversed(kept))

    def _torch_logits(self, encoded: Any) -> Any:
        torch = self._torch
        extra = {}
        if self.is_longformer:
            global_mask = torch.zeros_like(encoded["input_ids"])
            global_mask[:, 0] = 1
            extra["global_attention_mask"] = global_mask
        with (
            torch.inference_mode(),
            torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cpu_bf16),
        ):
            return self.model(**encoded, **extra).logits.float()

    def classify(self, items: Sequence[tuple[str, Sequence[str | ContextLine]]]) -> list[Decision]:
        """Classify a batch of (utterance, earlier user lines)."""
        torch = self._torch
        pairs = [self.model_input(utterance, earlier) for utterance, earlier in items]
        encoded = encode_pairs(self.tokenizer, pairs, self.max_length).to(self.device)
        if self.int8 is not None:  # one row per session run: answers do not depend on the batch
            logits = torch.from_numpy(self.int8.logits({k: v.numpy() for k, v in encoded.items()}))
        else:
            logits = self._torch_logits(encoded)
        if logits.shape[-1] == 1:
            probabilities = torch.sigmoid(logits[:, 0]).tolist()
        else:
            probabilities = torch.softmax(logits, dim=-1)[:, self.yes_index].tolist()
        decisions = []
        for (utterance, _), probability in zip(items, probabilities):
            yes = probability >= self.config.threshold
            english = True
            veto = None
            if yes and self.config.policy_rules:
                veto = policy_veto(utterance)
                yes = veto is None
            if yes and self.language is not None:
                english = self.language.is_english(utterance)
                yes = english
            decisions.append(Decision(float(probability), yes, english, veto))
        return decisions
