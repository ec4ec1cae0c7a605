"""The bridge's only door to Triton: gRPC calls to the chat, screen_intent and tokenizer models.

One gRPC stream per chat request; ``ChatStream.cancel()`` cancels the stream, which Triton turns
into a request cancellation that the chat model sees within a few milliseconds and answers by
aborting the engine request. Failures become two exceptions with messages meant for people:
``TritonUnavailable`` (nothing answers: connection refused, server shutting down, model not
loaded) and ``TritonRequestError`` (the model refused or failed the request).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any

import numpy as np

from bridge.protocol.effects import ChatDelta, EngineRequestError, EngineUnavailable

log = logging.getLogger("yap.bridge.triton")
DEFAULT_CHAT_MODEL = "chat"
DEFAULT_INTENT_MODEL = "screen_intent"
DEFAULT_TOKENIZER_MODEL = "tokenizer"
ABORT_FLUSH_S = 2.0  # how long close() waits for abort requests still in flight


class TritonUnavailable(EngineUnavailable):
    """Triton (or the model) cannot be reached right now."""


class TritonRequestError(EngineRequestError):
    """Triton answered with an error for this request."""


_UNAVAILABLE_MARKERS = (
    "unavailable",
    "failed to connect",
    "connection refused",
    "connect failed",
    "deadline exceeded",
    "is not found",
    "not ready",
    "unknown model",
    "socket closed",
    "server is shutting down",
    "engine is not running",  # the chat model's own health check (serving.chat.engine)
)


_MODEL_MARKERS = ("is not found", "unknown model", "not ready", "engine is not running")


def _error_text(error: BaseException) -> str:
    """What Triton said, without gRPC's internals (``debug_error_string``, peer addresses)."""
    message = getattr(error, "message", None)
    if callable(message):  # tritonclient's InferenceServerException
        with contextlib.suppress(Exception):
            return str(message() or "")
    details = getattr(error, "details", None)
    if callable(details):  # grpc.aio.AioRpcError
        with contextlib.suppress(Exception):
            return str(details() or "")
    return str(error).split("debug_error_string", 1)[0].strip(" \n:;(")


def _classify_error(error: BaseException, what: str) -> Exception:
    """Unavailable (retry later) or a request error, with a message fit for a client.

    The raw error goes to the log only: clients must not see gRPC internals.
    """
    raw = str(error)
    text = _error_text(error)
    lowered = raw.lower()
    if any(marker in lowered for marker in _UNAVAILABLE_MARKERS):
        log.warning("%s: Triton unavailable: %s", what, raw.replace("\n", " "))
        if any(marker in lowered for marker in _MODEL_MARKERS) and "ipv" not in text:
            return TritonUnavailable(f"{what}: {text}")  # Triton's own words name the model
        return TritonUnavailable(f"{what}: Triton is restarting, unreachable or not serving it")
    log.warning("%s: Triton error: %s", what, raw.replace("\n", " "))
    return TritonRequestError(f"{what}: {text}")


def _bytes_input(name: str, values: Sequence[str], shape: Sequence[int] | None = None) -> Any:
    from tritonclient.grpc import InferInput

    array = np.array([v.encode("utf-8") for v in values], dtype=np.object_)
    if shape is not None:
        array = array.reshape(shape)
    tensor = InferInput(name, list(array.shape), "BYTES")
    tensor.set_data_from_numpy(array)
    return tensor


def _typed_input(name: str, array: np.ndarray, datatype: str) -> Any:
    from tritonclient.grpc import InferInput

    tensor = InferInput(name, list(array.shape), datatype)
    tensor.set_data_from_numpy(array)
    return tensor


class ChatStream:
    """One streamed chat request; iterate for deltas, ``cancel()`` to stop it at once."""

    def __init__(
        self,
        client: Any,
        model: str,
        inputs: list[Any],
        request_id: str,
        track_abort: Callable[[asyncio.Task[None]], None],
    ) -> None:
        self._client = client
        self._track_abort = track_abort  # the gateway keeps it until sent (close() waits for it)
        self._model = model
        self._inputs = inputs
        self._request_id = request_id
        self._call: Any = None
        self.cancelled = False

    async def _requests(self) -> AsyncIterator[dict[str, Any]]:
        yield {"model_name": self._model, "inputs": self._inputs, "request_id": self._request_id}

    async def __aiter__(self) -> AsyncIterator[ChatDelta]:
        if self.cancelled:
            return
        try:
            self._call = self._client.stream_infer(self._requests())
        except Exception as exc:
            raise _classify_error(exc, "chat stream") from None
        try:
            async for result, error in self._call:
                if error is not None:
                    raise _classify_error(error, "chat")
                response = result.get_response()
                final = bool(response.parameters["triton_final_response"].bool_param)
                text_array = result.as_numpy("text_output")
                text = "".join(
                    t.decode("utf-8") if isinstance(t, bytes) else str(t)
                    for t in (text_array.reshape(-1) if text_array is not None else [])
                )
                stats = None
                if final:
                    raw = result.as_numpy("stats")
                    if raw is not None and raw.size:
                        stats = json.loads(raw.reshape(-1)[0])
                yield ChatDelta(text, final, stats)
                if final:
                    return
        except (TritonUnavailable, TritonRequestError):
            raise
        except asyncio.CancelledError:
            self.cancel()
            raise
        except Exception as exc:
            if self.cancelled:
                return
            raise _classify_error(exc, "chat stream") from None
        if not self.cancelled:
            raise TritonUnavailable("chat stream ended without a final response (Triton went away)")

    def cancel(self) -> None:
        """Stop the request now: tell the chat model to abort it (one short control request,
        no waiting for its cancellation poll), and cancel the gRPC stream."""
        if self.cancelled:
            return
        self.cancelled = True
        if self._call is not None:
            if self._request_id:
                with contextlib.suppress(RuntimeError):  # no running loop: stream cancel only
                    self._track_abort(asyncio.get_running_loop().create_task(self._send_abort()))
            with contextlib.suppress(Exception):
                self._call.cancel()

    async def _send_abort(self) -> None:
        inputs = [_bytes_input("abort_request_id", [self._request_id])]

        async def requests() -> AsyncIterator[dict[str, Any]]:
            yield {"model_name": self._model, "inputs": inputs}

        with contextlib.suppress(Exception):  # best effort: the stream cancel still applies
            async for _result, _error in self._client.stream_infer(requests()):
                break


class TritonGateway:
    def __init__(
        self,
        url: str,
        *,
        chat_model: str = DEFAULT_CHAT_MODEL,
        intent_model: str = DEFAULT_INTENT_MODEL,
        tokenizer_model: str = DEFAULT_TOKENIZER_MODEL,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url
        self.chat_model = chat_model
        self.intent_model = intent_model
        self.tokenizer_model = tokenizer_model
        self.timeout_s = timeout_s
        self._client: Any = None
        self._aborts: set[asyncio.Task[None]] = set()  # fire-and-forget abort requests in flight

    @property
    def client(self) -> Any:
        if self._client is None:
            import tritonclient.grpc.aio as grpcclient

            # Reconnect within a second once Triton is back (gRPC's default backoff reaches 2 min).
            self._client = grpcclient.InferenceServerClient(
                self.url,
                channel_args=[
                    ("grpc.initial_reconnect_backoff_ms", 100),
                    ("grpc.min_reconnect_backoff_ms", 100),
                    ("grpc.max_reconnect_backoff_ms", 1000),
                    ("grpc.enable_retries", 0),
                ],
            )
        return self._client

    def _track_abort(self, task: asyncio.Task[None]) -> None:
        """Hold a fire-and-forget abort request until it is done (``close`` waits for it)."""
        self._aborts.add(task)
        task.add_done_callback(self._aborts.discard)

    async def close(self) -> None:
        # An abort sent on the way out (a client that just left, a drain) must reach the chat
        # model before the channel goes: without it the engine generates for nobody until its
        # cancellation poll notices the cancelled stream, if it ever does.
        if self._aborts:
            await asyncio.wait(set(self._aborts), timeout=ABORT_FLUSH_S)
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                await client.close()

    async def models_ready(self, models: Sequence[str], timeout_s: float = 2.0) -> dict[str, bool]:
        """Readiness of each model; a health probe must answer fast even when Triton hangs."""
        found: dict[str, bool] = {}
        for model in models:
            try:
                found[model] = bool(
                    await self.client.is_model_ready(model, client_timeout=timeout_s)
                )
            except Exception:
                found[model] = False
        return found

    async def _infer(self, model: str, inputs: list[Any], what: str) -> Any:
        try:
            return await self.client.infer(model, inputs, client_timeout=self.timeout_s)
        except Exception as exc:
            raise _classify_error(exc, what) from None

    async def measure(
        self, texts: Sequence[str], max_tokens: int = 0, keep: str = "head"
    ) -> list[tuple[int, str]]:
        """Token count of each text and the text cut to ``max_tokens`` (0: count only)."""
        if not texts:
            return []
        count = len(texts)
        inputs = [
            _bytes_input("text", texts, [count, 1]),
            _typed_input("max_tokens", np.full((count, 1), max_tokens, dtype=np.int32), "INT32"),
            _bytes_input("keep", [keep] * count, [count, 1]),
        ]
        result = await self._infer(self.tokenizer_model, inputs, "tokenizer")
        counts = result.as_numpy("token_count").reshape(-1)
        kept = result.as_numpy("text_output").reshape(-1)
        return [
            (int(n), t.decode("utf-8") if isinstance(t, bytes) else str(t))
            for n, t in zip(counts, kept)
        ]

    async def classify(
        self, utterance: str, earlier_user_lines: Sequence[str | Mapping[str, Any]]
    ) -> tuple[float, bool]:
        """(p(screen), decision) for one utterance and the earlier user lines (oldest first):
        strings, or ``{"text", "captured"}`` objects (``protocol.screen_context``)."""
        inputs = [
            _bytes_input("text", [utterance], [1, 1]),
            _bytes_input("context", [json.dumps(list(earlier_user_lines))], [1, 1]),
        ]
        result = await self._infer(self.intent_model, inputs, "screen_intent")
        probability = float(result.as_numpy("probability").reshape(-1)[0])
        decision = bool(result.as_numpy("decision").reshape(-1)[0])
        return probability, decision

    def chat_stream(
        self,
        messages: Sequence[Mapping[str, str]],
        sampling: Mapping[str, Any],
        *,
        request_id: str = "",
        want_stats: bool = False,
    ) -> ChatStream:
        inputs = [
            _bytes_input("messages", [json.dumps(list(messages))]),
            _typed_input("stream", np.array([True]), "BOOL"),
            _bytes_input("sampling_parameters", [json.dumps(dict(sampling))]),
        ]
        if want_stats:
            inputs.append(_typed_input("return_stats", np.array([True]), "BOOL"))
        # A unique request id lets cancel() abort this request by name (see ChatStream.cancel).
        return ChatStream(
            self.client, self.chat_model, inputs, request_id or uuid.uuid4().hex, self._track_abort
        )
