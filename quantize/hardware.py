"""Hardware facts that decide engine defaults: compute dtype, FP8 KV cache, the 8-bit scheme.

Compute dtype (``CHAT_DTYPE=default``): bf16 only where the hardware multiplies bf16 fast:
- x86 CPUs with AVX512-BF16 or AMX-BF16; on other CPUs vLLM falls back to plain torch linear
  layers for bf16 ("Failed to create oneDNN linear"), measured 6x slower than float32 for a
  340-token SmolLM2 prefill on an AVX2-only EPYC, so those get float32;
- NVIDIA GPUs of compute capability 8.0 or newer (Ampere+); older GPUs get float16.
A quantized checkpoint keeps its own activation dtype (``auto``): its kernels decide.

Rule: the KV cache is stored in FP8 where the hardware handles FP8 well, which halves KV memory
(more concurrent sessions, longer histories) at a quality cost too small to see in chat:
- NVIDIA GPUs with compute capability 8.9 or newer (Ada, Hopper, Blackwell);
- x86 CPUs with AVX-512 or AMX (vLLM's CPU attention refuses an FP8 KV cache without them:
  "FP8 KV cache on CPU requires x86 with AVX-512 or AMX").
Everything else gets ``auto`` (the model's dtype). An explicit ``CHAT_KV_CACHE_DTYPE`` wins.

Engine threads on CPU (``CHAT_CPU_THREADS_BIND=default``): vLLM's own ``auto`` binding keeps
one core for its scheduler process and puts the matmul threads on the rest. On a machine with
three usable cores or fewer that leaves the engine one or two cores for the work that matters:
measured on 2 cores (SmolLM2-135M, the benchmark's prompts), binding both cores gave 30 %
lower time to first token at concurrency 1 and 40 % lower at 4. So up to three usable cores the
engine threads are bound to all of them with nothing reserved; from four on vLLM's ``auto``
(one reserved core, one thread per physical core, NUMA aware) stays. Usable cores are this
process's CPU affinity, capped by a cgroup v2 ``cpu.max`` quota (not ``os.cpu_count()``).

The probes (``/proc/cpuinfo``, ``torch.cuda``, affinity, cgroup) are separate from the rules so
that the rules can be tested with fake inputs.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FP8_MIN_CAPABILITY = (8, 9)
BF16_MIN_CAPABILITY = (8, 0)
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
CPUINFO = Path("/proc/cpuinfo")
CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
#: Up to this many usable cores, the engine threads get all of them (see the module docstring).
SMALL_MACHINE_CORES = 3


def cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The ``flags`` of the first processor in ``/proc/cpuinfo`` (or of the given text)."""
    if cpuinfo is None:
        try:
            cpuinfo = CPUINFO.read_text(errors="replace")
        except OSError:
            return frozenset()
    for line in cpuinfo.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in {"flags", "Features"}:
            return frozenset(value.split())
    return frozenset()


def has_fp8_kv_isa(flags: frozenset[str]) -> bool:
    return "avx512f" in flags or "amx_tile" in flags


def cuda_capability(device: str = "cuda") -> tuple[int, int] | None:
    """Compute capability of ``device``, or None without a usable CUDA GPU."""
    try:
        import torch

        if not torch.cuda.is_available():
            return None
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        major, minor = torch.cuda.get_device_capability(index)
        return int(major), int(minor)
    except (ImportError, RuntimeError, ValueError):
        return None


def fp8_capable(
    device: str,
    *,
    capability: tuple[int, int] | None = None,
    cpuinfo: str | None = None,
) -> bool:
    """Whether ``device`` ("cpu", "cuda", "cuda:1") runs FP8 well (see the module docstring).

    ``capability`` and ``cpuinfo`` replace the probes (for tests, or a remote host's facts).
    """
    kind = device.split(":", 1)[0].strip().lower()
    if kind == "cuda":
        found = capability if capability is not None else cuda_capability(device)
        return found is not None and tuple(found) >= FP8_MIN_CAPABILITY
    if kind == "cpu":
        return has_fp8_kv_isa(cpu_flags(cpuinfo))
    return False


def choose_kv_cache_dtype(
    device: str,
    *,
    capability: tuple[int, int] | None = None,
    cpuinfo: str | None = None,
) -> str:
    """vLLM's ``kv_cache_dtype`` for ``device``: ``fp8`` where it helps, else ``auto``."""
    return "fp8" if fp8_capable(device, capability=capability, cpuinfo=cpuinfo) else "auto"


def resolve_kv_cache_dtype(requested: str | None, device: str) -> str:
    """An explicit setting wins; empty or ``default`` picks by hardware.

    (``auto`` stays vLLM's own ``auto``, i.e. the model dtype, so an operator can force it.)
    """
    text = (requested or "").strip().lower()
    if text in {"", "default", "hardware"}:
        return choose_kv_cache_dtype(device)
    return text


def has_fast_bf16_cpu(flags: frozenset[str]) -> bool:
    return bool(flags & BF16_CPU_FLAGS)


def choose_compute_dtype(
    device: str,
    *,
    quantized: bool = False,
    capability: tuple[int, int] | None = None,
    cpuinfo: str | None = None,
) -> str:
    """vLLM's ``dtype`` for ``device`` (see the module docstring for the rule)."""
    if quantized:
        return "auto"
    kind = device.split(":", 1)[0].strip().lower()
    if kind == "cuda":
        found = capability if capability is not None else cuda_capability(device)
        if found is None:
            return "auto"
        return "bfloat16" if tuple(found) >= BF16_MIN_CAPABILITY else "float16"
    if kind == "cpu":
        return "bfloat16" if has_fast_bf16_cpu(cpu_flags(cpuinfo)) else "float32"
    return "auto"


def resolve_compute_dtype(requested: str | None, device: str, *, quantized: bool = False) -> str:
    """An explicit dtype wins (``auto`` = the checkpoint's own); empty or ``default`` picks by
    hardware."""
    text = (requested or "").strip().lower()
    if text in {"", "default", "hardware"}:
        return choose_compute_dtype(device, quantized=quantized)
    return text


# -- engine threads on CPU ------------------------------------------------------------------
def affinity_cpus() -> list[int]:
    """The CPU ids this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def cgroup_cpu_quota(cpu_max: str | None = None) -> float | None:
    """The cgroup v2 ``cpu.max`` quota in cores (``"150000 100000"`` is 1.5), None without one."""
    if cpu_max is None:
        try:
            cpu_max = CGROUP_CPU_MAX.read_text(errors="replace")
        except OSError:
            return None
    quota, _, period = cpu_max.strip().partition(" ")
    if not quota or quota == "max" or not period:
        return None
    try:
        value = int(quota) / int(period)
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def usable_cores(cpus: Sequence[int], quota: float | None) -> float:
    """Cores the process may use: its affinity, capped by the cgroup quota."""
    return min(float(len(cpus)), quota) if quota else float(len(cpus))


@dataclass(frozen=True)
class CpuBinding:
    """How vLLM's CPU engine binds its threads: ``VLLM_CPU_OMP_THREADS_BIND`` and
    ``VLLM_CPU_NUM_OF_RESERVED_CPU`` (None: vLLM's own)."""

    omp_bind: str
    reserved: int | None
    reason: str

    def describe(self) -> str:
        reserved = "vLLM's" if self.reserved is None else str(self.reserved)
        return f"threads bind {self.omp_bind}, reserved cores {reserved} ({self.reason})"


def _id_list(cpus: Sequence[int]) -> str:
    return ",".join(str(c) for c in cpus)


def choose_cpu_binding(cpus: Sequence[int], quota: float | None = None) -> CpuBinding:
    """The engine thread binding for these usable CPUs (see the module docstring)."""
    cpus = sorted(cpus)
    if not cpus:
        return CpuBinding("auto", None, "no CPU affinity known")
    cores = len(cpus)
    if quota:  # a quota of 1.5 cores: 1 busy thread per whole core, at least one
        cores = max(1, min(cores, math.floor(quota)))
    if cores > SMALL_MACHINE_CORES:
        return CpuBinding("auto", None, f"{cores} usable cores: vLLM's binding")
    chosen = cpus[:cores]
    return CpuBinding(
        _id_list(chosen), 0, f"{cores} usable core{'s' if cores > 1 else ''}: all to the engine"
    )


_BIND_LIST = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*(\|\d+(-\d+)?(,\d+(-\d+)?)*)*$")


def resolve_cpu_binding(
    requested: str | None,
    *,
    cpus: Sequence[int] | None = None,
    quota: float | None = None,
) -> CpuBinding:
    """``CHAT_CPU_THREADS_BIND``: ``default`` picks by the usable cores; ``auto`` and ``nobind``
    are vLLM's own; a CPU list (``0-3``, ``0,2``; ``|`` between ranks) binds to it."""
    text = (requested or "").strip().lower()
    if text in {"", "default", "hardware"}:
        found = affinity_cpus() if cpus is None else list(cpus)
        return choose_cpu_binding(found, cgroup_cpu_quota() if cpus is None else quota)
    if text in {"auto", "nobind"}:
        return CpuBinding(text, None, "set by CHAT_CPU_THREADS_BIND")
    if not _BIND_LIST.match(text):
        raise ValueError(
            f"CHAT_CPU_THREADS_BIND={requested!r}: expected default, auto, nobind or a CPU list "
            "such as 0-3 or 0,2"
        )
    return CpuBinding(text, 0, "set by CHAT_CPU_THREADS_BIND")
