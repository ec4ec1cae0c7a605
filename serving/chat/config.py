"""The chat model's engine settings: one table, read once at model load.

Each row can be set in ``model_repository/chat/config.pbtxt`` (parameter key) or overridden by
its env var; see ``common.settings`` for the precedence. Serving another model on a GPU is a
matter of these settings alone, e.g. ``CHAT_MODEL=/models/my-12b-awq CHAT_GPU_FRAC=0.85``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import paths
from common.generation import CHAT_MAX_LEN, CHAT_MAX_OUT
from common.settings import (
    Bool,
    Choice,
    Float,
    Int,
    JsonObject,
    Setting,
    SettingsError,
    Text,
    resolve,
)
from quantize import detect, hardware

AUTO = "auto"
CHAT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "CHAT_MODEL",
        Text(),
        str(paths.EMBEDDED_CHAT_DIR),
        "chat checkpoint: a local folder (or a hub id where a hub is reachable)",
        parameter="model",
    ),
    Setting(
        "CHAT_TOKENIZER",
        Text(),
        "",
        "tokenizer folder (default: the model's)",
        parameter="tokenizer",
    ),
    Setting(
        "CHAT_MODEL_NAME",
        Text(),
        "",
        "name reported in metrics and logs (default: the folder name)",
        parameter="served_model_name",
    ),
    Setting(
        "CHAT_DTYPE",
        Choice("default", AUTO, "bfloat16", "float16", "float32"),
        "default",
        "compute dtype; default: bfloat16 on CPUs with AVX512-BF16/AMX and GPUs of compute "
        "capability 8.0+, float32 on other CPUs (6x faster there than bf16), float16 on older "
        "GPUs, the checkpoint's own for quantized models; auto: the checkpoint's dtype",
        parameter="dtype",
    ),
    Setting(
        "CHAT_CPU_THREADS_BIND",
        Text(),
        "default",
        "engine threads on CPU; default: all usable cores (affinity and cgroup quota) with none "
        "reserved on machines of up to 3 cores (30-40 % lower TTFT on 2 cores), vLLM's auto "
        "binding from 4 cores on; auto or nobind: vLLM's own; or a CPU list such as 0-3",
        parameter="cpu_threads_bind",
    ),
    Setting(
        "QUANTIZATION",
        Text(),
        AUTO,
        "auto (serve the checkpoint as it is), none, 4bit, 8bit, or a vLLM method name",
        parameter="quantization",
    ),
    Setting(
        "CHAT_KV_CACHE_DTYPE",
        Choice("default", AUTO, "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16"),
        "default",
        "KV-cache dtype; default: fp8 on Hopper/Ada GPUs and AVX-512 CPUs (half the KV "
        "memory), else vLLM's auto; auto: the model's dtype",
        parameter="kv_cache_dtype",
    ),
    CHAT_MAX_LEN.for_parameter("max_model_len"),
    CHAT_MAX_OUT.for_parameter("max_tokens"),
    Setting(
        "CHAT_GPU_FRAC",
        Float(0.05, 0.99),
        0.90,
        "GPU memory fraction for vLLM (GPU only)",
        parameter="gpu_memory_utilization",
    ),
    Setting(
        "CHAT_CPU_KV_GIB",
        Int(1),
        1,
        "KV-cache space in whole GiB (CPU only; sets VLLM_CPU_KVCACHE_SPACE)",
        parameter="cpu_kv_cache_gib",
    ),
    Setting(
        "CHAT_PREFIX_CACHING", Bool(), True, "prefix caching", parameter="enable_prefix_caching"
    ),
    Setting(
        "CHAT_CHUNKED_PREFILL", Bool(), True, "chunked prefill", parameter="enable_chunked_prefill"
    ),
    Setting(
        "CHAT_ENFORCE_EAGER",
        Choice(AUTO, "true", "false", "1", "0", "yes", "no", "on", "off"),
        AUTO,
        "auto (eager on CPU: fast start; compiled on GPU), true or false",
        parameter="enforce_eager",
    ),
    Setting("CHAT_MAX_NUM_SEQS", Int(1), 64, "max concurrent sequences", parameter="max_num_seqs"),
    Setting(
        "CHAT_MAX_BATCHED_TOKENS",
        Int(0),
        0,
        "tokens per engine step (0: vLLM's default)",
        parameter="max_num_batched_tokens",
    ),
    Setting("CHAT_TP", Int(1), 1, "tensor-parallel GPUs", parameter="tensor_parallel_size"),
    Setting("CHAT_SEED", Int(0), 0, "engine seed", parameter="seed"),
    Setting(
        "CHAT_TEMPLATE_ENABLE_THINKING",
        Bool(),
        False,
        "passed to the chat template as enable_thinking",
        parameter="enable_thinking",
    ),
    Setting(
        "CHAT_CANCEL_POLL_MS",
        Float(0.5, 1000),
        100.0,
        "how often streams are polled for client cancellation (each poll is an IPC round trip "
        "that now and then stalls the Python backend ~0.5 s; clients that send "
        "abort_request_id are stopped at once instead)",
        parameter="cancel_poll_ms",
    ),
    Setting(
        "CHAT_HEALTH_CHECK_MS",
        Float(50, 60000),
        1000.0,
        "how often the engine's health is checked; a dead engine fails every request at once "
        "(UNAVAILABLE) and sets yap_chat_engine_healthy to 0 so the supervisor restarts Triton",
        parameter="health_check_ms",
    ),
    Setting(
        "CHAT_ENGINE_METRICS",
        Bool(),
        True,
        "export vLLM's engine metrics on Triton's /metrics",
        parameter="engine_metrics",
    ),
    Setting(
        "CHAT_ENGINE_ARGS",
        JsonObject(),
        {},
        "extra vLLM engine arguments as a JSON object (wins over the rows above)",
        parameter="engine_args",
    ),
)


@dataclass(frozen=True)
class ChatConfig:
    model: str
    tokenizer: str
    served_model_name: str
    quantization: detect.QuantizationInfo
    engine_kwargs: dict[str, Any]
    default_max_tokens: int
    enable_thinking: bool
    cancel_poll_s: float
    health_check_s: float
    engine_metrics: bool
    cpu_kv_cache_gib: int
    cpu_binding: hardware.CpuBinding | None  # None on a GPU
    summary: str

    @classmethod
    def resolve(
        cls,
        parameters: Mapping[str, str],
        environ: Mapping[str, str] = os.environ,
        *,
        device: str,
        model_name: str = "chat",
    ) -> ChatConfig:
        found = resolve(CHAT_SETTINGS, parameters, environ, model_name=model_name)
        model = found["model"]
        local = Path(model).expanduser()
        if local.is_absolute() or local.exists() or model.startswith("."):
            if not local.is_dir():
                raise SettingsError(
                    f"model '{model_name}': chat model folder {local} does not exist "
                    "(set CHAT_MODEL, or run scripts/setup.sh to prepare the embedded model)"
                )
            if not (local / "config.json").is_file():
                raise SettingsError(
                    f"model '{model_name}': {local} has no config.json; CHAT_MODEL must point "
                    "at a transformers checkpoint folder"
                )
            model = str(local.resolve())
            info = detect.detect(local)
        else:
            info = detect.info_from_name(model)
        try:
            quantization = detect.resolve_request(found["quantization"], info)
        except detect.QuantizationMismatch as exc:
            raise SettingsError(f"model '{model_name}': {exc}") from None

        cpu_binding = None
        if device == "cpu":
            try:
                cpu_binding = hardware.resolve_cpu_binding(found["cpu_threads_bind"])
            except ValueError as exc:
                raise SettingsError(f"model '{model_name}': {exc}") from None
        eager_text = str(found["enforce_eager"]).lower()
        if eager_text == AUTO:
            enforce_eager = device == "cpu"
        else:
            enforce_eager = Bool()(eager_text)
        kwargs: dict[str, Any] = {
            "model": model,
            "tokenizer": found["tokenizer"] or model,
            "served_model_name": found["served_model_name"] or Path(model).name,
            "dtype": hardware.resolve_compute_dtype(
                found["dtype"], device, quantized=info.is_quantized or quantization is not None
            ),
            "quantization": quantization,
            "kv_cache_dtype": hardware.resolve_kv_cache_dtype(found["kv_cache_dtype"], device),
            "max_model_len": found["max_model_len"],
            "enable_prefix_caching": found["enable_prefix_caching"],
            "enable_chunked_prefill": found["enable_chunked_prefill"],
            "enforce_eager": enforce_eager,
            "max_num_seqs": found["max_num_seqs"],
            "tensor_parallel_size": found["tensor_parallel_size"],
            "seed": found["seed"],
            "scheduling_policy": "priority",
            "disable_log_stats": False,
        }
        if device != "cpu":
            kwargs["gpu_memory_utilization"] = found["gpu_memory_utilization"]
        if found["max_num_batched_tokens"]:
            kwargs["max_num_batched_tokens"] = found["max_num_batched_tokens"]
        kwargs.update(found["engine_args"])
        return cls(
            model=model,
            tokenizer=kwargs["tokenizer"],
            served_model_name=kwargs["served_model_name"],
            quantization=info,
            engine_kwargs=kwargs,
            default_max_tokens=found["max_tokens"],
            enable_thinking=found["enable_thinking"],
            cancel_poll_s=found["cancel_poll_ms"] / 1000.0,
            health_check_s=found["health_check_ms"] / 1000.0,
            engine_metrics=found["engine_metrics"],
            cpu_kv_cache_gib=found["cpu_kv_cache_gib"],
            cpu_binding=cpu_binding,
            summary=found.describe()
            + f", checkpoint={info.describe()}, device={device}"
            + f" -> engine dtype={kwargs['dtype']}, kv_cache_dtype={kwargs['kv_cache_dtype']}"
            + (f", {cpu_binding.describe()}" if cpu_binding else ""),
        )
