"""The benchmark's pure parts: the TTFT split by the chat model's timeline, the summary table."""

from __future__ import annotations

from bench.compare import _WALL_OFFSET, PHASES, Results, Sample, markdown, phases_of, summarize


def _stats(sent_wall: float) -> dict:
    return {
        "model_ttft_ms": 50.0,
        "engine_ttft_ms": 44.0,
        "timeline": {
            "submitted": sent_wall + 0.004,
            "first_output": sent_wall + 0.054,
            "first_sent": sent_wall + 0.055,
        },
    }


def test_phases_add_up_to_the_client_ttft() -> None:
    sent_perf = 1000.0
    phases = phases_of(sent_perf, 58.0, _stats(_WALL_OFFSET + sent_perf))
    assert phases is not None and list(phases) == list(PHASES)
    assert round(phases["inbound"], 3) == 4.0
    assert round(phases["prompt"], 3) == 6.0
    assert phases["engine"] == 44.0
    assert round(phases["send"], 3) == 1.0
    assert round(phases["outbound"], 3) == 3.0
    # inbound + model TTFT + send + outbound is the client's TTFT
    assert round(phases["inbound"] + 50.0 + phases["send"] + phases["outbound"], 3) == 58.0


def test_no_timeline_no_phases() -> None:
    assert phases_of(1.0, 10.0, {}) is None
    assert phases_of(1.0, 10.0, {"timeline": {"submitted": 1.0}, "model_ttft_ms": 2}) is None
    assert phases_of(1.0, 10.0, {**_stats(0.0), "engine_ttft_ms": None}) is None


def test_summary_and_table_show_the_split() -> None:
    results = Results()
    for i in range(3):
        phases = {name: float(i + k) for k, name in enumerate(PHASES)}
        results.samples.append(Sample("b_grpc", 1, 60.0 + i, 50.0, 300.0, 24, phases))
        results.samples.append(Sample("c_inprocess", 1, 55.0, 51.0, 280.0, 24))
    rows = summarize(results, [1])
    grpc = next(r for r in rows if r["path"] == "b_grpc")
    assert grpc["phases_p50"] == {name: 1.0 + k for k, name in enumerate(PHASES)}
    assert next(r for r in rows if r["path"] == "c_inprocess")["phases_p50"] is None
    table = markdown(rows, {}, {"date": "today", "machine": "here", "model": "m"})
    assert "| (b) gRPC -> Triton | 1 | 1.0 | 2.0 | 3.0 | 4.0 | 5.0 |" in table
