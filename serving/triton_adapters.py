"""Adapters between Triton's Python-backend API (``pb_utils``) and the project's classes.

Only code running inside Triton's Python stub imports this module; ``pb_utils`` is passed in
so that nothing here needs the stub to be imported by a test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from serving.chat.engine import Delta
from serving.chat.metrics import COUNTER, GAUGE, SPECS
from serving.chat.request import ChatRequest


def read_inputs(pb_utils: Any, request: Any, names: Iterable[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        tensor = pb_utils.get_input_tensor_by_name(request, name)
        found[name] = None if tensor is None else tensor.as_numpy()
    return found


def text_tensor(pb_utils: Any, name: str, values: Iterable[str]) -> Any:
    return pb_utils.Tensor(name, np.array([v.encode("utf-8") for v in values], dtype=np.object_))


class TritonMetricSink:
    """``MetricSink`` over Triton custom metric families."""

    def __init__(self, pb_utils: Any) -> None:
        self._pb = pb_utils
        self._families: dict[str, Any] = {}
        self._metrics: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}

    def _metric(self, name: str, labels: Mapping[str, str]) -> Any:
        key = (name, tuple(sorted(labels.items())))
        metric = self._metrics.get(key)
        if metric is None:
            spec = SPECS[name]
            family = self._families.get(name)
            if family is None:
                kind = {
                    COUNTER: self._pb.MetricFamily.COUNTER,
                    GAUGE: self._pb.MetricFamily.GAUGE,
                }.get(spec.kind, getattr(self._pb.MetricFamily, "HISTOGRAM", None))
                family = self._pb.MetricFamily(name=name, description=spec.doc, kind=kind)
                self._families[name] = family
            if spec.buckets:
                metric = family.Metric(labels=dict(labels), buckets=list(spec.buckets))
            else:
                metric = family.Metric(labels=dict(labels))
            self._metrics[key] = metric
        return metric

    def close(self) -> None:
        """Drop metrics while the stub's shared memory still exists (not at interpreter exit)."""
        self._metrics.clear()
        self._families.clear()

    def declare(self, name: str, labels: Mapping[str, str]) -> None:
        self._metric(name, labels)

    def increment(self, name: str, labels: Mapping[str, str], value: float) -> None:
        self._metric(name, labels).increment(value)

    def set(self, name: str, labels: Mapping[str, str], value: float) -> None:
        self._metric(name, labels).set(value)

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None:
        self._metric(name, labels).observe(value)


class TritonChatSink:
    """Sends a chat request's deltas as Triton responses (decoupled).

    ``is_cancelled`` is called from the engine's watcher thread. Once the final response is
    sent Triton frees the request's response factory, and asking it then crashed tritonserver
    (SIGSEGV in TRITONBACKEND_ResponseFactoryIsCancelled): the lock keeps the two apart.
    """

    def __init__(self, pb_utils: Any, request: Any, chat: ChatRequest | None = None) -> None:
        self._pb = pb_utils
        self._sender = request.get_response_sender()
        self._request = request
        self.chat = chat
        self._closed = False
        self._lock = threading.Lock()

    def _response(self, delta: Delta) -> Any:
        pb = self._pb
        chat = self.chat
        tensors = [text_tensor(pb, "text_output", [delta.text])]
        if chat is not None:
            if chat.wants("return_finish_reason"):
                tensors.append(text_tensor(pb, "finish_reason", [str(delta.finish_reason)]))
            if chat.wants("return_cumulative_logprob"):
                value = delta.cumulative_logprob if delta.cumulative_logprob is not None else 0.0
                tensors.append(pb.Tensor("cumulative_logprob", np.array([value], dtype=np.float32)))
            if chat.wants("return_logprobs"):
                text = json.dumps(delta.logprobs) if delta.logprobs is not None else "null"
                tensors.append(text_tensor(pb, "logprobs", [text]))
            if chat.wants("return_num_input_tokens"):
                tensors.append(
                    pb.Tensor(
                        "num_input_tokens", np.array([delta.num_input_tokens], dtype=np.uint32)
                    )
                )
            if chat.wants("return_num_output_tokens"):
                tensors.append(
                    pb.Tensor(
                        "num_output_tokens", np.array([delta.token_ids_count], dtype=np.uint32)
                    )
                )
            if chat.wants("return_stats") and delta.stats is not None:
                tensors.append(text_tensor(pb, "stats", [json.dumps(delta.stats)]))
        return pb.InferenceResponse(output_tensors=tensors)

    def send(self, delta: Delta) -> None:
        self._sender.send(self._response(delta))

    def finish(self, final: Delta) -> None:
        response = self._response(final)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._sender.send(response, flags=self._pb.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def fail(self, message: str, kind: str = "invalid") -> None:
        pb = self._pb
        code = {
            "cancelled": pb.TritonError.CANCELLED,
            "internal": pb.TritonError.INTERNAL,
            "unavailable": getattr(pb.TritonError, "UNAVAILABLE", pb.TritonError.INTERNAL),
        }.get(kind, pb.TritonError.INVALID_ARG)
        error = pb.TritonError(message, code)
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._sender.send(
                pb.InferenceResponse(error=error), flags=pb.TRITONSERVER_RESPONSE_COMPLETE_FINAL
            )

    def is_cancelled(self) -> bool:
        with self._lock:
            return not self._closed and bool(self._sender.is_cancelled())
