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

The probes (``/proc/cpuinfo``, ``torch.cuda``) are separate from the rule so that the rule can
be tested with fake inputs.
"""

from __future__ import annotations

from pathlib import Path

FP8_MIN_CAPABILITY = (8, 9)
BF16_MIN_CAPABILITY = (8, 0)
BF16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
CPUINFO = Path("/proc/cpuinfo")


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
