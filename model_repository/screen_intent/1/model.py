"""Triton adapter of the screen-intent classifier; the logic is in serving.screen_intent."""

import json
import os

import numpy as np
import triton_python_backend_utils as pb_utils

try:
    import serving  # noqa: F401 - installed in the environment (Docker image)
except ImportError:  # running from a checkout
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from common.settings import config_parameters
from serving.screen_intent.classifier import ClassifierConfig, ScreenIntentClassifier
from serving.screen_intent.features import parse_context


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    def initialize(self, args):
        model_config = json.loads(args["model_config"])
        config = ClassifierConfig.resolve(
            config_parameters(model_config), os.environ, model_name=args["model_name"]
        )
        pb_utils.Logger.log_info(f"[screen_intent] settings: {config.summary}")
        self.classifier = ScreenIntentClassifier(
            config, log=lambda line: pb_utils.Logger.log_info(f"[screen_intent] {line}")
        )

    def execute(self, requests):
        items, sizes = [], []
        for request in requests:
            texts = pb_utils.get_input_tensor_by_name(request, "text").as_numpy().reshape(-1)
            contexts = pb_utils.get_input_tensor_by_name(request, "context").as_numpy().reshape(-1)
            sizes.append(len(texts))
            for text, context in zip(texts, contexts):
                items.append((_text(text), parse_context(_text(context))))
        decisions = self.classifier.classify(items) if items else []
        responses, start = [], 0
        for size in sizes:
            chunk = decisions[start : start + size]
            start += size
            probability = np.array([[d.probability] for d in chunk], dtype=np.float32)
            decision = np.array([[d.decision] for d in chunk], dtype=bool)
            responses.append(
                pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor("probability", probability),
                        pb_utils.Tensor("decision", decision),
                    ]
                )
            )
        return responses
