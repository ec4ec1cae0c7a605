"""Quantized exports of the embedded chat model, served by the real Triton chat model (vLLM CPU).

INT8 W8A8 and FP8 dynamic exports take seconds to make and run in CI; AWQ and GPTQ need a
calibration pass (minutes on 2 cores) and are marked slow (``--run-slow``). Exports come from
``ensure_export``, the run command's cache, so a second run of this file reuses them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.triton_gateway import TritonGateway
from common import paths
from ops.triton_server import TritonError, TritonServer
from quantize import detect
from quantize.cache import ensure_export
from quantize.hardware import choose_kv_cache_dtype

from .helpers import with_gateway

pytestmark = pytest.mark.integration

SYSTEM = "You are a friendly assistant. Answer in one or two short sentences."
QUESTION = "What is a good name for a cat?"
COMMON_WORDS = {"the", "a", "i", "you", "is", "to", "and", "it", "of", "are", "for", "name", "cat"}


@pytest.fixture(scope="module", autouse=True)
def embedded_chat_model() -> Path:
    if not (paths.EMBEDDED_CHAT_DIR / "config.json").is_file():
        pytest.skip("the embedded chat model is not prepared (run scripts/setup.sh)")
    return paths.EMBEDDED_CHAT_DIR


def export_of(scheme: str) -> Path:
    said: list[str] = []
    folder = ensure_export(paths.EMBEDDED_CHAT_DIR, scheme, announce=said.append)
    # A restart finds the same export in the cache instead of quantizing again.
    again: list[str] = []
    assert ensure_export(paths.EMBEDDED_CHAT_DIR, scheme, announce=again.append) == folder
    assert again and "reusing the cached" in again[0], again
    return folder


def ask(server: TritonServer) -> tuple[str, int]:
    async def scenario(gateway: TritonGateway) -> list[str]:
        pieces = []
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
        async for delta in gateway.chat_stream(messages, {"max_tokens": 40, "temperature": 0.0}):
            pieces.append(delta.text)
        return pieces

    pieces = with_gateway(server.grpc_url, scenario)
    return "".join(pieces), len([p for p in pieces if p])


def assert_coherent(text: str, deltas: int) -> None:
    words = text.lower().replace(",", " ").replace(".", " ").replace('"', " ").split()
    assert deltas >= 3, f"expected a streamed reply, got {deltas} deltas: {text!r}"
    assert len(words) >= 5, text
    assert sum(word in COMMON_WORDS for word in words) >= 2, text
    assert text.isascii() or sum(c.isalpha() for c in text) > len(text) // 2, text


def serve_and_ask(export: Path, **env: str) -> tuple[str, int, str]:
    server = TritonServer(models=["chat"], env={"CHAT_MODEL": str(export), **env})
    with server:
        text, deltas = ask(server)
        assert server.log_path is not None
        log = server.log_path.read_text(errors="replace")
    return text, deltas, log


@pytest.mark.parametrize(
    ("scheme", "detected", "kv_cache_dtype"),
    [
        # INT8 is what the run command picks for 8bit on a CPU, with the KV dtype for this CPU.
        ("int8", "W8A8-INT8", choose_kv_cache_dtype("cpu")),
        ("fp8", "FP8-DYNAMIC", "auto"),
    ],
)
def test_8bit_export_is_served_by_the_chat_model(
    scheme: str, detected: str, kv_cache_dtype: str
) -> None:
    export = export_of(scheme)
    info = detect.detect(export)
    assert (info.method, info.bits, info.scheme) == ("compressed-tensors", 8, detected)
    text, deltas, log = serve_and_ask(
        export, QUANTIZATION="8bit", CHAT_KV_CACHE_DTYPE=kv_cache_dtype
    )
    assert_coherent(text, deltas)
    assert f"compressed-tensors {detected}" in log, "the chat model did not report the checkpoint"
    assert f"kv_cache_dtype={kv_cache_dtype}" in log


def test_a_4bit_request_on_an_8bit_export_is_refused() -> None:
    export = export_of("int8")
    server = TritonServer(models=["chat"], env={"CHAT_MODEL": str(export), "QUANTIZATION": "4bit"})
    with pytest.raises(TritonError) as failed:
        server.start(timeout_s=120)
    server.stop()
    assert "QUANTIZATION=4bit but the checkpoint is already compressed-tensors W8A8-INT8" in str(
        failed.value
    )


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["awq", "gptq"])
def test_4bit_export_is_served_by_the_chat_model(scheme: str) -> None:
    export = export_of(scheme)
    info = detect.detect(export)
    assert (info.method, info.bits, info.scheme) == ("compressed-tensors", 4, "W4A16")
    text, deltas, log = serve_and_ask(export, QUANTIZATION="4bit")
    assert_coherent(text, deltas)
    assert "CPUWNA16LinearKernel" in log or "compressed-tensors W4A16" in log
