"""The tritonserver dist itself: the Python stub's tensor round trip (the numpy trap of
docs/platform.md) and the deploy modes that choose which models load."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from ops.triton_server import DEPLOY_MODES, TritonError, TritonServer

from .helpers import with_gateway

pytestmark = pytest.mark.integration

ECHO_CONFIG = """
name: "echo"
backend: "python"
max_batch_size: 0
input [ { name: "text" data_type: TYPE_STRING dims: [ -1 ] },
        { name: "values" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "text_out" data_type: TYPE_STRING dims: [ -1 ] },
         { name: "values_out" data_type: TYPE_FP32 dims: [ -1 ] } ]
"""
ECHO_MODEL = """
import numpy as np
import triton_python_backend_utils as pb_utils

class TritonPythonModel:
    def execute(self, requests):
        out = []
        for request in requests:
            text = pb_utils.get_input_tensor_by_name(request, "text").as_numpy()
            values = pb_utils.get_input_tensor_by_name(request, "values").as_numpy()
            upper = np.array([t.decode().upper().encode() for t in text], dtype=np.object_)
            out.append(pb_utils.InferenceResponse([
                pb_utils.Tensor("text_out", upper),
                pb_utils.Tensor("values_out", (values * 2).astype(np.float32)),
            ]))
        return out
"""


def test_python_stub_round_trips_bytes_and_fp32(tmp_path: Path) -> None:
    # With numpy 2 in the venv the 24.10 stub copied tensors with stride 0:
    # [10, 20, 30, 40] arrived as [10, 10, 10, 10] and BYTES inputs crashed it.
    model = tmp_path / "echo"
    (model / "1").mkdir(parents=True)
    (model / "config.pbtxt").write_text(textwrap.dedent(ECHO_CONFIG))
    (model / "1" / "model.py").write_text(textwrap.dedent(ECHO_MODEL))
    with TritonServer(models=["echo"], repository=tmp_path) as server:

        async def scenario(gw):  # type: ignore[no-untyped-def]
            from tritonclient.grpc import InferInput

            text = InferInput("text", [3], "BYTES")
            text.set_data_from_numpy(
                np.array([b"alpha", "b\xc3\xa9ta".encode("latin-1"), b"x" * 5000], dtype=np.object_)
            )
            values = InferInput("values", [4], "FP32")
            values.set_data_from_numpy(np.array([10, 20, 30, 40], dtype=np.float32))
            return await gw.client.infer("echo", [text, values])

        result = with_gateway(server.grpc_url, scenario)
    assert result.as_numpy("values_out").tolist() == [20.0, 40.0, 60.0, 80.0]
    texts = result.as_numpy("text_out").tolist()
    assert texts[0] == b"ALPHA" and texts[2] == b"X" * 5000


def test_tool_deploy_mode_loads_only_the_tool_models() -> None:
    with TritonServer(models=DEPLOY_MODES["tool"], env={"DEPLOY_MODELS": "tool"}) as server:

        async def scenario(gw):  # type: ignore[no-untyped-def]
            ready = await gw.models_ready(["screen_intent", "tokenizer", "chat", "chat_turn"])
            decision = await gw.classify("take a screenshot of this", [])
            counted = await gw.measure(["hello world"])
            return ready, decision, counted

        ready, decision, counted = with_gateway(server.grpc_url, scenario)
    assert ready == {"screen_intent": True, "tokenizer": True, "chat": False, "chat_turn": False}
    assert decision[1] is True
    # Tool-only: token counts come from the classifier's (WordPiece) tokenizer.
    assert counted[0][0] == 2


def test_missing_model_folder_fails_with_a_clear_message(tmp_path: Path) -> None:
    server = TritonServer(models=["screen_intent"], env={"TOOL_MODEL": str(tmp_path / "nope")})
    with pytest.raises(TritonError) as caught:
        server.start(timeout_s=120)
    server.stop()
    assert "is not a checkpoint folder" in str(caught.value), caught.value
    assert "TOOL_MODEL" in str(caught.value)
