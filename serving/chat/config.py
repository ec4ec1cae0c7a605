"""The chat model's engine settings: one table, read once at model load.

Each row can be set in ``model_repository/chat/config.pbtxt`` (parameter key) or overridden by
its env var; see ``serving.settings`` for the precedence. Serving another model on a GPU is a
matter of these settings alone, e.g. ``CHAT_MODEL=/models/my-12b-awq CHAT_GPU_FRAC=0.85``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import paths
from quantize import detect, hardware
from serving.settings import (
    Setting,
    SettingsError,
    parse_bool,
    parse_choice,
    parse_float,
    parse_int,
    parse_json_object,
    parse_text,
    resolve,
)

AUTO = "auto"
CHAT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "model",
        "CHAT_MODEL",
        str(paths.EMBEDDED_CHAT_DIR),
        parse_text,
        "chat checkpoint: a local folder (or a hub id where a hub is reachable)",
    ),
    Setting(
        "tokenizer", "CHAT_TOKENIZER", "", parse_text, "tokenizer folder (default: the model's)"
    ),
    Setting(
        "served_model_name",
        "CHAT_MODEL_NAME",
        "",
        parse_text,
        "name reported in metrics and logs (default: the folder name)",
    ),
    Setting(
        "dtype",
        "CHAT_DTYPE",
        "default",
        parse_choice("default", AUTO, "bfloat16", "float16", "float32"),
        "compute dtype; default: bfloat16 on CPUs with AVX512-BF16/AMX and GPUs of compute "
        "capability 8.0+, float32 on other CPUs (6x faster there than bf16), float16 on older "
        "GPUs, the checkpoint's own for quantized models; auto: the checkpoint's dtype",
    ),
    Setting(
        "cpu_threads_bind",
        "CHAT_CPU_THREADS_BIND",
        "default",
        parse_text,
        "engine threads on CPU; default: all usable cores (affinity and cgroup quota) with none "
        "reserved on machines of up to 3 cores (30-40 % lower TTFT on 2 cores), vLLM's auto "
        "binding from 4 cores on; auto or nobind: vLLM's own; or a CPU list such as 0-3",
    ),
    Setting(
        "quantization",
        "QUANTIZATION",
        AUTO,
        parse_text,
        "auto (serve the checkpoint as it is), none, 4bit, 8bit, or a vLLM method name",
    ),
    Setting(
        "kv_cache_dtype",
        "CHAT_KV_CACHE_DTYPE",
        "default",
        parse_choice("default", AUTO, "fp8", "fp8_e4m3", "fp8_e5m2", "bfloat16"),
        "KV-cache dtype; default: fp8 on Hopper/Ada GPUs and AVX-512 CPUs (half the KV "
        "memory), else vLLM's auto; auto: the model's dtype",
    ),
    Setting(
        "max_model_len",
        "CHAT_MAX_LEN",
        5025,
        parse_int(64),
        "max tokens per sequence: 1650 persona + 3000 history + 350 user + 25",
    ),
    Setting("max_tokens", "CHAT_MAX_OUT", 150, parse_int(1), "default max_tokens per request"),
    Setting(
        "gpu_memory_utilization",
        "CHAT_GPU_FRAC",
        0.90,
        parse_float(0.05, 0.99),
        "GPU memory fraction for vLLM (GPU only)",
    ),
    Setting(
        "cpu_kv_cache_gib",
        "CHAT_CPU_KV_GIB",
        1,
        parse_int(1),
        "KV-cache space in whole GiB (CPU only; sets VLLM_CPU_KVCACHE_SPACE)",
    ),
    Setting("enable_prefix_caching", "CHAT_PREFIX_CACHING", True, parse_bool, "prefix caching"),
    Setting("enable_chunked_prefill", "CHAT_CHUNKED_PREFILL", True, parse_bool, "chunked prefill"),
    Setting(
        "enforce_eager",
        "CHAT_ENFORCE_EAGER",
        AUTO,
        parse_text,
        "auto (eager on CPU: fast start; compiled on GPU), true or false",
    ),
    Setting("max_num_seqs", "CHAT_MAX_NUM_SEQS", 64, parse_int(1), "max concurrent sequences"),
    Setting(
        "max_num_batched_tokens",
        "CHAT_MAX_BATCHED_TOKENS",
        0,
        parse_int(0),
        "tokens per engine step (0: vLLM's default)",
    ),
    Setting("tensor_parallel_size", "CHAT_TP", 1, parse_int(1), "tensor-parallel GPUs"),
    Setting("seed", "CHAT_SEED", 0, parse_int(0), "engine seed"),
    Setting(
        "enable_thinking",
        "CHAT_TEMPLATE_ENABLE_THINKING",
        False,
        parse_bool,
        "passed to the chat template as enable_thinking",
    ),
    Setting(
        "cancel_poll_ms",
        "CHAT_CANCEL_POLL_MS",
        100.0,
        parse_float(0.5, 1000),
        "how often streams are polled for client cancellation (each poll is an IPC round trip "
        "that now and then stalls the Python backend ~0.5 s; clients that send "
        "abort_request_id are stopped at once instead)",
    ),
    Setting(
        "health_check_ms",
        "CHAT_HEALTH_CHECK_MS",
        1000.0,
        parse_float(50, 60000),
        "how often the engine's health is checked; a dead engine fails every request at once "
        "(UNAVAILABLE) and sets yap_chat_engine_healthy to 0 so the supervisor restarts Triton",
    ),
    Setting(
        "engine_metrics",
        "CHAT_ENGINE_METRICS",
        True,
        parse_bool,
        "export vLLM's engine metrics on Triton's /metrics",
    ),
    Setting(
        "engine_args",
        "CHAT_ENGINE_ARGS",
        {},
        parse_json_object,
        "extra vLLM engine arguments as a JSON object (wins over the rows above)",
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
            enforce_eager = parse_bool(eager_text)
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
