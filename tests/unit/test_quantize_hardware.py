"""KV-cache dtype by hardware: fp8 on Ada/Hopper GPUs and AVX-512/AMX CPUs, auto elsewhere."""

from __future__ import annotations

import pytest

from quantize import hardware

AVX512_CPU = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum
flags\t\t: fpu vme sse sse2 avx avx2 avx512f avx512bw avx512_bf16 avx512_vnni
processor\t: 1
flags\t\t: fpu vme sse sse2 avx avx2 avx512f
"""
AVX2_CPU = "processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2 fma\n"
AMX_CPU = "processor\t: 0\nflags\t\t: avx2 amx_tile amx_bf16\n"
ARM_CPU = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes\n"


def test_cpu_flags_come_from_the_first_processor() -> None:
    flags = hardware.cpu_flags(AVX512_CPU)
    assert {"avx512f", "avx512_vnni", "avx2"} <= flags
    assert hardware.cpu_flags(ARM_CPU) == frozenset({"fp", "asimd", "evtstrm", "aes"})
    assert hardware.cpu_flags("") == frozenset()


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [(AVX512_CPU, "fp8"), (AMX_CPU, "fp8"), (AVX2_CPU, "auto"), (ARM_CPU, "auto"), ("", "auto")],
)
def test_cpu_choice(cpuinfo: str, expected: str) -> None:
    assert hardware.choose_kv_cache_dtype("cpu", cpuinfo=cpuinfo) == expected


@pytest.mark.parametrize(
    ("capability", "expected"),
    [
        ((9, 0), "fp8"),
        ((8, 9), "fp8"),
        ((10, 0), "fp8"),
        ((8, 6), "auto"),
        ((8, 0), "auto"),
        ((7, 5), "auto"),
    ],
)
def test_gpu_choice_by_compute_capability(capability: tuple[int, int], expected: str) -> None:
    assert hardware.choose_kv_cache_dtype("cuda", capability=capability) == expected
    assert hardware.choose_kv_cache_dtype("cuda:1", capability=capability) == expected


def test_gpu_without_cuda_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "cuda_capability", lambda device="cuda": None)
    assert hardware.choose_kv_cache_dtype("cuda") == "auto"


def test_unknown_devices_are_auto() -> None:
    assert hardware.choose_kv_cache_dtype("xpu", cpuinfo=AVX512_CPU) == "auto"


def test_explicit_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "choose_kv_cache_dtype", lambda device: "fp8")
    assert hardware.resolve_kv_cache_dtype("", "cpu") == "fp8"
    assert hardware.resolve_kv_cache_dtype("default", "cpu") == "fp8"
    assert hardware.resolve_kv_cache_dtype("auto", "cpu") == "auto"
    assert hardware.resolve_kv_cache_dtype("fp8_e5m2", "cpu") == "fp8_e5m2"


def test_this_machine_gets_an_answer() -> None:
    assert hardware.choose_kv_cache_dtype("cpu") in {"fp8", "auto"}


AVX512_NO_BF16_CPU = "processor\t: 0\nflags\t\t: avx2 avx512f avx512bw avx512_vnni\n"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (AVX512_CPU, "bfloat16"),  # avx512_bf16
        (AMX_CPU, "bfloat16"),  # amx_bf16
        (AVX512_NO_BF16_CPU, "float32"),  # AVX-512 alone has no fast bf16 matmul
        (AVX2_CPU, "float32"),
        (ARM_CPU, "float32"),
        ("", "float32"),
    ],
)
def test_cpu_compute_dtype_is_bf16_only_with_bf16_instructions(cpuinfo: str, expected: str) -> None:
    assert hardware.choose_compute_dtype("cpu", cpuinfo=cpuinfo) == expected


@pytest.mark.parametrize(
    ("capability", "expected"),
    [((9, 0), "bfloat16"), ((8, 0), "bfloat16"), ((7, 5), "float16"), ((6, 1), "float16")],
)
def test_gpu_compute_dtype_by_capability(capability: tuple[int, int], expected: str) -> None:
    assert hardware.choose_compute_dtype("cuda:0", capability=capability) == expected


def test_quantized_checkpoints_keep_their_own_dtype() -> None:
    assert hardware.choose_compute_dtype("cpu", quantized=True, cpuinfo=AVX2_CPU) == "auto"
    assert hardware.choose_compute_dtype("cuda", quantized=True, capability=(7, 5)) == "auto"


def test_explicit_compute_dtype_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hardware, "choose_compute_dtype", lambda device, quantized: "float32")
    assert hardware.resolve_compute_dtype("default", "cpu") == "float32"
    assert hardware.resolve_compute_dtype("", "cpu") == "float32"
    assert hardware.resolve_compute_dtype("auto", "cpu") == "auto"
    assert hardware.resolve_compute_dtype("bfloat16", "cpu") == "bfloat16"


# -- engine threads on CPU: the decision table ----------------------------------------------
@pytest.mark.parametrize(
    ("cpus", "quota", "bind", "reserved"),
    [
        ([0], None, "0", 0),  # one core: the engine gets it
        ([0, 1], None, "0,1", 0),  # 2 cores: both to the engine (vLLM's auto would keep one)
        ([2, 5, 7], None, "2,5,7", 0),  # an affinity mask: its own ids, in order
        ([0, 1, 2, 3], None, "auto", None),  # 4 cores and more: vLLM's binding
        (list(range(16)), None, "auto", None),
        (list(range(16)), 2.0, "0,1", 0),  # a 2-CPU cgroup quota on a 16-core host
        (list(range(16)), 1.5, "0", 0),  # 1.5 CPUs: one busy thread per whole core
        (list(range(16)), 0.5, "0", 0),  # less than a core: still one
        ([0, 1], 8.0, "0,1", 0),  # the affinity caps a larger quota
        ([], None, "auto", None),
    ],
)
def test_cpu_binding_by_usable_cores(
    cpus: list[int], quota: float | None, bind: str, reserved: int | None
) -> None:
    binding = hardware.choose_cpu_binding(cpus, quota)
    assert (binding.omp_bind, binding.reserved) == (bind, reserved)
    assert bind in binding.describe()


def test_cpu_binding_overrides() -> None:
    cpus = [0, 1]
    assert hardware.resolve_cpu_binding("default", cpus=cpus).omp_bind == "0,1"
    assert hardware.resolve_cpu_binding("", cpus=list(range(8))).omp_bind == "auto"
    assert hardware.resolve_cpu_binding("auto", cpus=cpus).omp_bind == "auto"
    assert hardware.resolve_cpu_binding("nobind", cpus=cpus).reserved is None
    assert hardware.resolve_cpu_binding("0-3", cpus=cpus).omp_bind == "0-3"
    assert hardware.resolve_cpu_binding("0,2|1,3", cpus=cpus).omp_bind == "0,2|1,3"
    with pytest.raises(ValueError, match="CHAT_CPU_THREADS_BIND='all cores'"):
        hardware.resolve_cpu_binding("all cores", cpus=cpus)


def test_cgroup_quota_parsing() -> None:
    assert hardware.cgroup_cpu_quota("max 100000") is None
    assert hardware.cgroup_cpu_quota("150000 100000") == 1.5
    assert hardware.cgroup_cpu_quota("") is None
    assert hardware.cgroup_cpu_quota("junk") is None
    assert hardware.usable_cores([0, 1, 2, 3], 1.5) == 1.5
    assert hardware.usable_cores([0, 1], None) == 2.0
