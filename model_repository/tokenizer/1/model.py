"""Triton adapter of serving.token_budget: token counts and head/tail truncation."""

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
from serving.token_budget import TokenBudget, tokenizer_folder


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    def initialize(self, args):
        model_config = json.loads(args["model_config"])
        folder = tokenizer_folder(
            config_parameters(model_config), os.environ, model_name=args["model_name"]
        )
        pb_utils.Logger.log_info(f"[tokenizer] using {folder}")
        self.budget = TokenBudget.from_folder(folder)

    def execute(self, requests):
        responses = []
        for request in requests:
            texts = pb_utils.get_input_tensor_by_name(request, "text").as_numpy().reshape(-1)
            limits = pb_utils.get_input_tensor_by_name(request, "max_tokens").as_numpy().reshape(-1)
            keeps = pb_utils.get_input_tensor_by_name(request, "keep").as_numpy().reshape(-1)
            counts, kept = [], []
            error = None
            for text, limit, keep in zip(texts, limits, keeps):
                side = _text(keep).strip().lower() or "head"
                if side not in ("head", "tail"):
                    error = f"keep must be 'head' or 'tail', got {side!r}"
                    break
                count, cut = self.budget.measure(_text(text), int(limit), side)
                counts.append([count])
                kept.append([cut.encode("utf-8")])
            if error is not None:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(error)))
                continue
            responses.append(
                pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor("token_count", np.array(counts, dtype=np.int32)),
                        pb_utils.Tensor("text_output", np.array(kept, dtype=np.object_)),
                    ]
                )
            )
        return responses
