"""The facts of the machine a benchmark ran on, printed and stored with its figures, so that two
runs on different machines are never compared blind (CPUs of this kind differ: with and
without AVX-512 / AVX512-BF16, with steal time)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from pathlib import Path
from typing import Any

from quantize import hardware

FLAGS_THAT_MATTER = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile")


def cpu_model(cpuinfo: str | None = None) -> str:
    text = cpuinfo if cpuinfo is not None else _read(Path("/proc/cpuinfo"))
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "model name":
            return " ".join(value.split())
    return platform.processor() or platform.machine()


def usable_cores(cpu_max: str | None = None, affinity: int | None = None) -> float:
    """Cores this process may use: its CPU affinity, capped by a cgroup v2 ``cpu.max`` quota."""
    cpus = hardware.affinity_cpus() if affinity is None else list(range(affinity))
    quota = hardware.cgroup_cpu_quota(cpu_max)
    return hardware.usable_cores(cpus, quota)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _binding() -> str:
    """The engine thread binding the chat model uses here (vLLM's own variables win)."""
    bind = os.environ.get("VLLM_CPU_OMP_THREADS_BIND")
    if bind:
        return f"threads bind {bind} (VLLM_CPU_OMP_THREADS_BIND)"
    try:
        return hardware.resolve_cpu_binding(os.environ.get("CHAT_CPU_THREADS_BIND")).describe()
    except ValueError as exc:
        return str(exc)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def _classifier_runtime(flags: frozenset[str], gpu: str) -> str:
    """The screen-intent classifier's runtime under this environment's settings."""
    if gpu != "none":
        return "cuda-fp16"
    from common.settings import SettingsError, resolve
    from serving.screen_intent.classifier import (
        SCREEN_INTENT_SETTINGS,
        cpu_runtime,
    )

    try:
        found = resolve(SCREEN_INTENT_SETTINGS, {}, os.environ, model_name="screen_intent")
    except SettingsError as exc:
        return f"unknown ({exc})"
    return cpu_runtime(found["cpu_int8"], found["cpu_bf16"], flags)


def machine_facts(engine_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    flags = hardware.cpu_flags()
    facts: dict[str, Any] = {
        "cpu": cpu_model(),
        "cores": usable_cores(),
        "flags": [flag for flag in FLAGS_THAT_MATTER if flag in flags],
        "gpu": "none" if hardware.cuda_capability() is None else "cuda",
        "dtype": hardware.choose_compute_dtype("cpu"),
        "kv_cache_dtype": hardware.choose_kv_cache_dtype("cpu"),
        "engine_layout": (
            "in-process"
            if os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING") == "0"
            else "engine-core process"
        )
        + ", "
        + _binding(),
        "versions": {
            name: _version(name)
            for name in ("vllm-cpu", "torch", "transformers", "tritonclient", "nvidia-pytriton")
        },
    }
    facts["classifier"] = _classifier_runtime(flags, facts["gpu"])
    if engine_kwargs:
        facts["dtype"] = engine_kwargs.get("dtype", facts["dtype"])
        facts["kv_cache_dtype"] = engine_kwargs.get("kv_cache_dtype", facts["kv_cache_dtype"])
    return facts


def describe(facts: dict[str, Any]) -> str:
    """One line for a results table."""
    flags = ", ".join(facts["flags"]) or "no AVX2/AVX-512"
    versions = ", ".join(f"{k} {v}" for k, v in facts["versions"].items())
    cores = facts["cores"]
    cores_text = f"{cores:g}" if isinstance(cores, float) else str(cores)
    return (
        f"{facts['cpu']} ({flags}), {cores_text} usable cores, GPU: {facts['gpu']}; chat dtype "
        f"{facts['dtype']}, KV cache {facts['kv_cache_dtype']}, engine {facts['engine_layout']}, "
        f"screen_intent {facts.get('classifier', '-')}; {versions}"
    )


RESULTS = Path(__file__).resolve().parent / "results"


def write_results(stem: str, title: str, result: dict[str, Any], body: list[str]) -> str:
    """``results/{stem}.json`` (the result, its machine facts included) and ``results/{stem}.md``
    (the title, the machine's line, then ``body``); returns the markdown."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    text = "\n".join([f"# {title}", "", describe(result["machine"]), "", *body])
    (RESULTS / f"{stem}.md").write_text(text)
    return text
