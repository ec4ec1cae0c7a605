"""vLLM stats to Triton metrics: translation and coalescing, without Triton."""

from __future__ import annotations

from types import SimpleNamespace

from serving.chat.metrics import MetricsPump, updates_for_abort, updates_from_stats


class RecordingSink:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, str], float]] = []

    def declare(self, name, labels):  # type: ignore[no-untyped-def]
        self.calls.append(("declare", name, dict(labels), 0.0))

    def increment(self, name, labels, value):  # type: ignore[no-untyped-def]
        self.calls.append(("inc", name, dict(labels), value))

    def set(self, name, labels, value):  # type: ignore[no-untyped-def]
        self.calls.append(("set", name, dict(labels), value))

    def observe(self, name, labels, value):  # type: ignore[no-untyped-def]
        self.calls.append(("obs", name, dict(labels), value))


def stats(running: int, generated: int, finished: list | None = None):  # type: ignore[no-untyped-def,type-arg]
    scheduler = SimpleNamespace(
        num_running_reqs=running,
        num_waiting_reqs=1,
        kv_cache_usage=0.25,
        prefix_cache_stats=SimpleNamespace(queries=100, hits=64),
    )
    iteration = SimpleNamespace(
        num_prompt_tokens=10,
        num_generation_tokens=generated,
        num_preempted_reqs=0,
        time_to_first_tokens_iter=[0.05],
        inter_token_latencies_iter=[0.02, 0.03],
        finished_requests=finished or [],
    )
    return scheduler, iteration


def test_counters_sum_and_gauges_keep_the_last_value() -> None:
    sink = RecordingSink()
    pump = MetricsPump(sink, {"model": "chat"})
    finished = SimpleNamespace(
        finish_reason=SimpleNamespace(name="STOP"),
        e2e_latency=1.5,
        queued_time=0.01,
        num_prompt_tokens=10,
        num_generation_tokens=20,
    )
    pump.apply(updates_from_stats(*stats(2, 3)) + updates_from_stats(*stats(0, 4, [finished])))
    incs = {(c[1], tuple(sorted(c[2].items()))): c[3] for c in sink.calls if c[0] == "inc"}
    assert incs[("vllm:generation_tokens_total", (("model", "chat"),))] == 7
    assert incs[("vllm:prefix_cache_hits_total", (("model", "chat"),))] == 128
    assert (
        incs[("vllm:request_success_total", (("finished_reason", "stop"), ("model", "chat")))] == 1
    )
    sets = {c[1]: c[3] for c in sink.calls if c[0] == "set"}
    assert sets["vllm:num_requests_running"] == 0
    observed = [c[1] for c in sink.calls if c[0] == "obs"]
    assert observed.count("vllm:inter_token_latency_seconds") == 4
    assert "vllm:e2e_request_latency_seconds" in observed


def test_aborts_are_counted_and_timed() -> None:
    sink = RecordingSink()
    MetricsPump(sink, {}).apply(updates_for_abort(0.4, 30, 5))
    assert ("inc", "vllm:request_success_total", {"finished_reason": "abort"}, 1.0) in sink.calls
    assert ("obs", "vllm:request_generation_tokens", {}, 5.0) in sink.calls


def test_requests_ended_by_our_stop_strings_are_counted_as_stop() -> None:
    sink = RecordingSink()
    MetricsPump(sink, {}).apply(updates_for_abort(0.2, 10, 3, "stop"))
    assert ("inc", "vllm:request_success_total", {"finished_reason": "stop"}, 1.0) in sink.calls


def test_pump_thread_applies_queued_updates() -> None:
    sink = RecordingSink()
    pump = MetricsPump(sink, {}, interval_s=0.01)
    pump.start()
    assert ("declare", "vllm:num_requests_running", {}, 0.0) in sink.calls
    pump.put(updates_for_abort(0.1, 1, 1))
    pump.stop()
    assert any(call[1] == "vllm:request_success_total" for call in sink.calls)
