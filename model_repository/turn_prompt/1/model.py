"""Triton adapter of serving.turn_prompt (first step of the chat_turn ensemble)."""

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
from serving.turn_prompt import TurnDefaults, TurnError, build_turn


def _text(request, name):
    value = pb_utils.get_input_tensor_by_name(request, name).as_numpy().reshape(-1)[0]
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


class TritonPythonModel:
    def initialize(self, args):
        # The same settings as the bridge (CHAT_MAX_OUT, CHAT_TEMPERATURE..., CHAT_LOGIT_BIAS_FILE).
        self.defaults = TurnDefaults.resolve(
            config_parameters(json.loads(args["model_config"])), os.environ
        )
        pb_utils.Logger.log_info(
            f"[turn_prompt] sampling={self.defaults.sampling} max_tokens={self.defaults.max_tokens}"
            f" phrase_bias={len(self.defaults.phrase_bias)} phrases"
        )

    def execute(self, requests):
        responses = []
        for request in requests:
            try:
                messages, sampling = build_turn(
                    _text(request, "system_prompt"),
                    _text(request, "history_text"),
                    _text(request, "user_utterance"),
                    _text(request, "sampling_parameters"),
                    self.defaults,
                )
            except TurnError as exc:
                responses.append(pb_utils.InferenceResponse(error=pb_utils.TritonError(str(exc))))
                continue
            responses.append(
                pb_utils.InferenceResponse(
                    [
                        pb_utils.Tensor(
                            "messages", np.array([messages.encode()], dtype=np.object_)
                        ),
                        pb_utils.Tensor("stream", np.array([True], dtype=bool)),
                        pb_utils.Tensor(
                            "sampling_parameters_out",
                            np.array([sampling.encode()], dtype=np.object_),
                        ),
                    ]
                )
            )
        return responses
