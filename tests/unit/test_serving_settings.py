"""Model settings: precedence, clear errors for bad values, and the chat engine arguments."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from common.settings import SettingsError, markdown_table, resolve
from serving.chat.config import CHAT_SETTINGS, ChatConfig
from serving.screen_intent.classifier import ClassifierConfig


def checkpoint(tmp_path: Path, name: str = "model", quant: dict | None = None) -> Path:  # type: ignore[type-arg]
    folder = tmp_path / name
    folder.mkdir()
    config = {"architectures": ["LlamaForCausalLM"]}
    if quant is not None:
        config["quantization_config"] = quant
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_env_wins_over_config_parameter_which_wins_over_default(tmp_path: Path) -> None:
    found = resolve(CHAT_SETTINGS, {"max_model_len": "4096"}, {}, model_name="chat")
    assert found["max_model_len"] == 4096 and "config parameter" in found.sources["max_model_len"]
    found = resolve(
        CHAT_SETTINGS, {"max_model_len": "4096"}, {"CHAT_MAX_LEN": "2048"}, model_name="chat"
    )
    assert found["max_model_len"] == 2048 and found.sources["max_model_len"] == "env CHAT_MAX_LEN"
    found = resolve(CHAT_SETTINGS, {}, {}, model_name="chat")
    assert found["max_model_len"] == 5025 and found.sources["max_model_len"] == "default"


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        resolve(
            CHAT_SETTINGS,
            {},
            {"CHAT_MAX_LEN": "lots", "CHAT_PREFIX_CACHING": "maybe", "CHAT_GPU_FRAC": "1.5"},
            model_name="chat",
        )
    message = str(caught.value)
    assert "env CHAT_MAX_LEN='lots': expected an integer" in message
    assert "env CHAT_PREFIX_CACHING='maybe': expected true or false" in message
    assert "env CHAT_GPU_FRAC='1.5': expected a number <= 0.99" in message


def test_chat_engine_arguments_on_cpu(tmp_path: Path) -> None:
    model = checkpoint(tmp_path)
    config = ChatConfig.resolve(
        {}, {"CHAT_MODEL": str(model), "CHAT_KV_CACHE_DTYPE": "fp8"}, device="cpu"
    )
    kwargs = config.engine_kwargs
    assert kwargs["model"] == str(model.resolve())
    assert kwargs["enforce_eager"] is True  # auto: eager on CPU
    assert kwargs["kv_cache_dtype"] == "fp8"
    assert kwargs["scheduling_policy"] == "priority"
    assert "gpu_memory_utilization" not in kwargs
    assert kwargs["quantization"] is None
    assert kwargs["dtype"] in {"bfloat16", "float32"}  # decided by the CPU's bf16 instructions
    assert f"engine dtype={kwargs['dtype']}" in config.summary


def test_chat_dtype_override_wins_over_hardware(tmp_path: Path) -> None:
    model = checkpoint(tmp_path)
    for requested in ("float32", "bfloat16", "auto"):
        config = ChatConfig.resolve(
            {}, {"CHAT_MODEL": str(model), "CHAT_DTYPE": requested}, device="cpu"
        )
        assert config.engine_kwargs["dtype"] == requested


def test_chat_engine_arguments_on_gpu_and_extra_args(tmp_path: Path) -> None:
    model = checkpoint(tmp_path, "gemma-awq", {"quant_method": "awq", "bits": 4})
    config = ChatConfig.resolve(
        {},
        {
            "CHAT_MODEL": str(model),
            "CHAT_GPU_FRAC": "0.8",
            "CHAT_ENGINE_ARGS": '{"max_num_seqs": 8}',
        },
        device="cuda",
    )
    assert config.engine_kwargs["enforce_eager"] is False
    assert config.engine_kwargs["gpu_memory_utilization"] == 0.8
    assert config.engine_kwargs["max_num_seqs"] == 8
    assert config.quantization.method == "awq" and config.quantization.bits == 4


def test_missing_model_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        ChatConfig.resolve({}, {"CHAT_MODEL": str(tmp_path / "missing")}, device="cpu")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SettingsError, match=r"has no config\.json"):
        ChatConfig.resolve({}, {"CHAT_MODEL": str(tmp_path / "empty")}, device="cpu")
    with pytest.raises(SettingsError, match="is not a checkpoint folder"):
        ClassifierConfig.resolve({}, {"TOOL_MODEL": str(tmp_path / "missing")})


def test_inconsistent_quantization_request_is_refused(tmp_path: Path) -> None:
    int8 = checkpoint(
        tmp_path,
        "w8a8",
        {
            "quant_method": "compressed-tensors",
            "config_groups": {
                "g": {
                    "weights": {"num_bits": 8, "type": "int"},
                    "input_activations": {"num_bits": 8, "type": "int"},
                }
            },
        },
    )
    with pytest.raises(SettingsError, match="already compressed-tensors W8A8-INT8"):
        ChatConfig.resolve({}, {"CHAT_MODEL": str(int8), "QUANTIZATION": "4bit"}, device="cpu")
    assert ChatConfig.resolve({}, {"CHAT_MODEL": str(int8), "QUANTIZATION": "8bit"}, device="cpu")
    plain = checkpoint(tmp_path, "plain")
    with pytest.raises(SettingsError, match="the checkpoint is float"):
        ChatConfig.resolve({}, {"CHAT_MODEL": str(plain), "QUANTIZATION": "4bit"}, device="cpu")


def test_settings_table_renders_for_the_readme() -> None:
    table = markdown_table(CHAT_SETTINGS)
    assert table.count("\n") == len(CHAT_SETTINGS) + 1
    assert "`CHAT_MODEL`" in table and "`QUANTIZATION`" in table


def test_chat_cpu_thread_binding(tmp_path: Path) -> None:
    model = checkpoint(tmp_path)
    config = ChatConfig.resolve(
        {}, {"CHAT_MODEL": str(model), "CHAT_CPU_THREADS_BIND": "0-1"}, device="cpu"
    )
    assert config.cpu_binding is not None and config.cpu_binding.omp_bind == "0-1"
    assert "threads bind 0-1" in config.summary
    default = ChatConfig.resolve({}, {"CHAT_MODEL": str(model)}, device="cpu")
    assert default.cpu_binding is not None  # decided by this machine's usable cores
    assert ChatConfig.resolve({}, {"CHAT_MODEL": str(model)}, device="cuda").cpu_binding is None
    with pytest.raises(SettingsError, match="CHAT_CPU_THREADS_BIND='every'"):
        ChatConfig.resolve(
            {}, {"CHAT_MODEL": str(model), "CHAT_CPU_THREADS_BIND": "every"}, device="cpu"
        )
