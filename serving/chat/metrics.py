"""vLLM engine metrics for Triton's ``/metrics`` endpoint.

``EngineStatLogger`` is a vLLM stat logger: vLLM calls ``record`` on its output loop for every
engine iteration. Metric updates in Triton's Python backend are IPC calls to the server, so
``record`` only queues the raw stats; ``MetricsPump`` applies them from its own thread a few
times a second, summing counters and keeping the last gauge values. Requests aborted because
their client left never reach vLLM's own stats, so the chat engine reports them here too.

``MetricSink`` is the seam: Triton's metric families in production, a dict in the unit tests.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("yap.chat.metrics")
COUNTER, GAUGE, HISTOGRAM = "counter", "gauge", "histogram"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    kind: str
    doc: str
    buckets: tuple[float, ...] = ()


_LATENCY = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0)
_TOKEN_GAP = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.015,
    0.02,
    0.025,
    0.03,
    0.04,
    0.05,
    0.075,
    0.1,
    0.2,
    0.5,
    1.0,
)
_REQUEST = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
_TOKENS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)

SPECS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in (
        MetricSpec("vllm:prompt_tokens_total", COUNTER, "Prompt tokens processed"),
        MetricSpec("vllm:generation_tokens_total", COUNTER, "Tokens generated"),
        MetricSpec("vllm:num_preemptions_total", COUNTER, "Preempted requests"),
        MetricSpec("vllm:prefix_cache_queries_total", COUNTER, "Prefix-cache queries (tokens)"),
        MetricSpec("vllm:prefix_cache_hits_total", COUNTER, "Prefix-cache hits (tokens)"),
        MetricSpec(
            "vllm:request_success_total",
            COUNTER,
            "Finished requests by finish reason (abort: the client cancelled)",
        ),
        MetricSpec(
            "yap_chat_engine_healthy",
            GAUGE,
            "1 while the vLLM engine serves, 0 once its health check found it dead",
        ),
        MetricSpec("vllm:num_requests_running", GAUGE, "Requests in the running batch"),
        MetricSpec("vllm:num_requests_waiting", GAUGE, "Requests waiting to be scheduled"),
        MetricSpec("vllm:kv_cache_usage_perc", GAUGE, "KV-cache usage (1 = full)"),
        MetricSpec("vllm:time_to_first_token_seconds", HISTOGRAM, "Time to first token", _LATENCY),
        MetricSpec(
            "vllm:inter_token_latency_seconds", HISTOGRAM, "Time between output tokens", _TOKEN_GAP
        ),
        MetricSpec(
            "vllm:e2e_request_latency_seconds",
            HISTOGRAM,
            "Request latency, aborts included",
            _REQUEST,
        ),
        MetricSpec("vllm:request_queue_time_seconds", HISTOGRAM, "Time spent waiting", _LATENCY),
        MetricSpec("vllm:request_prompt_tokens", HISTOGRAM, "Prompt tokens per request", _TOKENS),
        MetricSpec(
            "vllm:request_generation_tokens", HISTOGRAM, "Generated tokens per request", _TOKENS
        ),
    )
}

Update = tuple[str, tuple[tuple[str, str], ...], float]  # (metric, extra labels, value)


class MetricSink(Protocol):
    def declare(self, name: str, labels: Mapping[str, str]) -> None: ...

    def increment(self, name: str, labels: Mapping[str, str], value: float) -> None: ...

    def set(self, name: str, labels: Mapping[str, str], value: float) -> None: ...

    def observe(self, name: str, labels: Mapping[str, str], value: float) -> None: ...


def updates_from_stats(scheduler_stats: Any, iteration_stats: Any) -> list[Update]:
    """Translate one engine iteration's stats into metric updates."""
    out: list[Update] = []
    if scheduler_stats is not None:
        out.append(("vllm:num_requests_running", (), float(scheduler_stats.num_running_reqs)))
        out.append(("vllm:num_requests_waiting", (), float(scheduler_stats.num_waiting_reqs)))
        out.append(("vllm:kv_cache_usage_perc", (), float(scheduler_stats.kv_cache_usage)))
        prefix = getattr(scheduler_stats, "prefix_cache_stats", None)
        if prefix is not None:
            out.append(("vllm:prefix_cache_queries_total", (), float(prefix.queries)))
            out.append(("vllm:prefix_cache_hits_total", (), float(prefix.hits)))
    if iteration_stats is not None:
        out.append(("vllm:prompt_tokens_total", (), float(iteration_stats.num_prompt_tokens)))
        out.append(
            ("vllm:generation_tokens_total", (), float(iteration_stats.num_generation_tokens))
        )
        out.append(("vllm:num_preemptions_total", (), float(iteration_stats.num_preempted_reqs)))
        for ttft in iteration_stats.time_to_first_tokens_iter:
            out.append(("vllm:time_to_first_token_seconds", (), float(ttft)))
        for gap in iteration_stats.inter_token_latencies_iter:
            out.append(("vllm:inter_token_latency_seconds", (), float(gap)))
        for finished in iteration_stats.finished_requests:
            reason = str(getattr(finished.finish_reason, "name", finished.finish_reason)).lower()
            out.append(("vllm:request_success_total", (("finished_reason", reason),), 1.0))
            out.append(("vllm:e2e_request_latency_seconds", (), float(finished.e2e_latency)))
            out.append(("vllm:request_queue_time_seconds", (), float(finished.queued_time)))
            out.append(("vllm:request_prompt_tokens", (), float(finished.num_prompt_tokens)))
            out.append(
                ("vllm:request_generation_tokens", (), float(finished.num_generation_tokens))
            )
    return out


def updates_for_abort(
    e2e_seconds: float, prompt_tokens: int, generated_tokens: int, reason: str = "abort"
) -> list[Update]:
    """A request vLLM did not finish itself (client gone, or ended by our stop strings)."""
    return [
        ("vllm:request_success_total", (("finished_reason", reason),), 1.0),
        ("vllm:e2e_request_latency_seconds", (), e2e_seconds),
        ("vllm:request_prompt_tokens", (), float(prompt_tokens)),
        ("vllm:request_generation_tokens", (), float(generated_tokens)),
    ]


class MetricsPump:
    """Applies queued updates to a sink from a background thread, coalescing them."""

    def __init__(
        self, sink: MetricSink, labels: Mapping[str, str], interval_s: float = 0.25
    ) -> None:
        self.sink = sink
        self.labels = dict(labels)
        self.interval_s = interval_s
        self._queue: queue.SimpleQueue[Sequence[Update] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="yap-metrics", daemon=True)
        self._stopped = threading.Event()

    def start(self) -> None:
        # Every series exists from the start (at 0), so dashboards and alerts see it at once.
        for name in SPECS:
            if name != "vllm:request_success_total":
                self.sink.declare(name, self.labels)
        self._thread.start()

    def put(self, updates: Sequence[Update]) -> None:
        if updates:
            self._queue.put(updates)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=2)  # finalize has 15 s in all (engine.STOP_BUDGET_S)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                first = self._queue.get(timeout=self.interval_s)
            except queue.Empty:
                continue
            batch = [first]
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if any(item is None for item in batch):
                self._stopped.set()
            try:
                self.apply([u for item in batch if item is not None for u in item])
            except Exception:  # noqa: BLE001 - a metrics failure must not stop later updates
                log.exception("applying %d metric updates failed", len(batch))

    def apply(self, updates: Sequence[Update]) -> None:
        counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        gauges: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for name, extra, value in updates:
            kind = SPECS[name].kind
            if kind == COUNTER:
                counters[(name, extra)] = counters.get((name, extra), 0.0) + value
            elif kind == GAUGE:
                gauges[(name, extra)] = value
            else:
                self.sink.observe(name, {**self.labels, **dict(extra)}, value)
        for (name, extra), value in counters.items():
            if value:
                self.sink.increment(name, {**self.labels, **dict(extra)}, value)
        for (name, extra), value in gauges.items():
            self.sink.set(name, {**self.labels, **dict(extra)}, value)


def stat_logger_factory(pump: MetricsPump) -> Any:
    """A vLLM ``StatLoggerFactory`` whose loggers feed ``pump``."""
    from vllm.v1.metrics.loggers import StatLoggerBase

    class EngineStatLogger(StatLoggerBase):
        def __init__(self, vllm_config: Any, engine_index: int = 0) -> None:
            self.engine_index = engine_index

        def record(
            self,
            scheduler_stats: Any,
            iteration_stats: Any,
            mm_cache_stats: Any = None,
            engine_idx: int = 0,
        ) -> None:
            pump.put(updates_from_stats(scheduler_stats, iteration_stats))

        def log_engine_initialized(self) -> None:
            pass

    return EngineStatLogger
