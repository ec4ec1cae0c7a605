"""BridgeConfig.from_env: defaults, derived defaults, and one error listing every bad value."""

from __future__ import annotations

import dataclasses

import pytest

from bridge.protocol.config import (
    ENV_VARS,
    REQUIRED,
    BridgeConfig,
    ConfigError,
    Derived,
    env_table_markdown,
)

BASE_ENV = {"TEXT_API_KEY": "secret-key", "MAX_CONCURRENT_CONNECTIONS": "24"}


def config(**env: str) -> BridgeConfig:
    return BridgeConfig.from_env({**BASE_ENV, **env})


def test_documented_defaults() -> None:
    cfg = config()
    assert cfg.text_api_key == "secret-key"
    assert cfg.max_concurrent_connections == 24
    assert cfg.deploy_models == "both"
    assert (cfg.deploy_chat, cfg.deploy_tool) == (True, True)
    assert cfg.triton_grpc_url == "127.0.0.1:8001"
    assert (cfg.bridge_host, cfg.bridge_port) == ("0.0.0.0", 8000)
    assert cfg.concurrent_model_call is False
    assert cfg.ws_handshake_acquire_timeout_s == 0.5
    assert (
        cfg.ws_close_client_request_code,
        cfg.ws_close_unauthorized_code,
        cfg.ws_close_busy_code,
        cfg.ws_close_idle_code,
    ) == (1000, 1008, 1013, 4000)
    assert cfg.ws_close_idle_reason == "idle_timeout"
    assert (cfg.ws_max_messages_per_window, cfg.ws_message_window_seconds) == (25, 60.0)
    assert (cfg.ws_max_cancels_per_window, cfg.ws_cancel_window_seconds) == (25, 60.0)
    assert cfg.chat_prompt_update_max_per_window == 4
    assert cfg.chat_prompt_update_window_seconds == 60.0
    assert (cfg.ws_idle_timeout_s, cfg.ws_watchdog_tick_s) == (150.0, 5.0)
    assert cfg.session_idle_ttl_seconds == 1800.0
    assert (cfg.gen_timeout_s, cfg.tool_timeout_s, cfg.stream_flush_ms) == (60.0, 10.0, 0.0)
    assert (cfg.chat_max_len, cfg.chat_max_out) == (5025, 150)
    assert cfg.chat_prompt_max_tokens == 1650
    assert cfg.history_max_tokens == 3000
    assert cfg.user_utt_max_tokens == 350
    assert cfg.prompt_sanitize_max_chars == 30150
    assert cfg.screen_prefix_max_chars == 30
    assert cfg.personality_max_len == 20
    assert (cfg.max_personalities, cfg.max_synonyms_per_personality) == (50, 10)
    assert (cfg.ws_end_sentinel, cfg.ws_cancel_sentinel) == ("__END__", "__CANCEL__")
    assert cfg.check_screen_prefix == "MUST CHECK SCREEN:"
    assert cfg.screen_checked_prefix == "ON THE SCREEN NOW:"
    assert cfg.chat_logit_bias_file is None


def test_sampling_defaults_and_ranges() -> None:
    cfg = config()
    assert cfg.sampling_range("temperature") == (0.0, 1.2)
    assert cfg.sampling_range("top_p") == (0.6, 1.0)
    assert cfg.sampling_range("top_k") == (0, 60)
    assert cfg.sampling_range("min_p") == (0.0, 0.2)
    assert cfg.sampling_range("repetition_penalty") == (1.0, 1.3)
    assert cfg.sampling_range("presence_penalty") == (0.0, 0.5)
    assert cfg.sampling_range("frequency_penalty") == (0.0, 0.5)
    assert cfg.sampling_default("temperature") == 0.8
    assert cfg.sampling_default("top_p") == 0.95
    assert cfg.sampling_default("top_k") == 30
    assert isinstance(cfg.sampling_range("top_k")[0], int)
    assert isinstance(cfg.sampling_range("temperature")[0], float)


def test_derived_defaults_follow_their_sources() -> None:
    cfg = config(
        WS_MAX_MESSAGES_PER_WINDOW="10",
        WS_MESSAGE_WINDOW_SECONDS="30",
        CHAT_MAX_LEN="1000",
        DEPLOY_MODELS="chat",
    )
    assert cfg.ws_max_cancels_per_window == 10
    assert cfg.ws_cancel_window_seconds == 30.0
    assert cfg.prompt_sanitize_max_chars == 6000


def test_derived_defaults_can_be_overridden() -> None:
    cfg = config(WS_MAX_CANCELS_PER_WINDOW="3", PROMPT_SANITIZE_MAX_CHARS="100")
    assert cfg.ws_max_cancels_per_window == 3
    assert cfg.ws_max_messages_per_window == 25
    assert cfg.prompt_sanitize_max_chars == 100


@pytest.mark.parametrize(
    ("value", "chat", "tool"),
    [("both", True, True), ("CHAT", True, False), (" tool ", False, True)],
)
def test_deploy_modes(value: str, chat: bool, tool: bool) -> None:
    cfg = config(DEPLOY_MODELS=value)
    assert (cfg.deploy_chat, cfg.deploy_tool) == (chat, tool)


def test_unknown_deploy_mode_is_a_startup_error() -> None:
    with pytest.raises(ConfigError) as caught:
        config(DEPLOY_MODELS="gpu")
    assert caught.value.problems == (
        "DEPLOY_MODELS='gpu' is invalid: expected one of both, chat, tool",
    )


def test_required_variables_are_all_reported() -> None:
    with pytest.raises(ConfigError) as caught:
        BridgeConfig.from_env({})
    assert caught.value.problems == (
        "TEXT_API_KEY is required: expected a non-empty string",
        "MAX_CONCURRENT_CONNECTIONS is required: expected an integer >= 0",
    )
    assert "TEXT_API_KEY" in str(caught.value)
    assert "MAX_CONCURRENT_CONNECTIONS" in str(caught.value)


def test_empty_values_count_as_unset() -> None:
    cfg = config(CHAT_TOP_K="", DEPLOY_MODELS="  ")
    assert cfg.chat_top_k == 30
    assert cfg.deploy_models == "both"
    with pytest.raises(ConfigError, match="TEXT_API_KEY is required"):
        BridgeConfig.from_env({"TEXT_API_KEY": "   ", "MAX_CONCURRENT_CONNECTIONS": "1"})


def test_every_bad_value_is_reported_together() -> None:
    with pytest.raises(ConfigError) as caught:
        config(
            MAX_CONCURRENT_CONNECTIONS="-1",
            BRIDGE_PORT="70000",
            CONCURRENT_MODEL_CALL="maybe",
            GEN_TIMEOUT_S="0",
            STREAM_FLUSH_MS="nan",
            WS_CLOSE_BUSY_CODE="999",
            CHAT_MAX_OUT="many",
        )
    assert caught.value.problems == (
        "MAX_CONCURRENT_CONNECTIONS='-1' is invalid: expected an integer >= 0",
        "BRIDGE_PORT='70000' is invalid: expected an integer between 0 and 65535",
        "CONCURRENT_MODEL_CALL='maybe' is invalid: expected a boolean (1/0, true/false, "
        "yes/no, on/off)",
        "WS_CLOSE_BUSY_CODE='999' is invalid: expected an integer between 1000 and 4999",
        "GEN_TIMEOUT_S='0' is invalid: expected a number > 0",
        "STREAM_FLUSH_MS='nan' is invalid: expected a number >= 0",
        "CHAT_MAX_OUT='many' is invalid: expected an integer >= 1",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("off", False)],
)
def test_booleans(raw: str, expected: bool) -> None:
    assert config(CONCURRENT_MODEL_CALL=raw).concurrent_model_call is expected


def test_sentinels_must_differ() -> None:
    with pytest.raises(ConfigError, match="WS_END_SENTINEL and WS_CANCEL_SENTINEL"):
        config(WS_END_SENTINEL="STOP", WS_CANCEL_SENTINEL=" STOP ")


def test_a_bad_logit_bias_file_is_a_configuration_problem(tmp_path) -> None:
    missing = tmp_path / "missing.json"
    with pytest.raises(ConfigError, match=r"CHAT_LOGIT_BIAS_FILE=.*missing\.json: cannot read"):
        config(CHAT_LOGIT_BIAS_FILE=str(missing))
    wrong = tmp_path / "list.json"
    wrong.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a non-empty JSON object"):
        config(CHAT_LOGIT_BIAS_FILE=str(wrong))
    good = tmp_path / "bias.json"
    good.write_text('{"Well,": -5}', encoding="utf-8")
    assert config(CHAT_LOGIT_BIAS_FILE=str(good)).chat_logit_bias_file == str(good)


def test_sampling_bounds_are_checked_against_each_other() -> None:
    with pytest.raises(ConfigError) as caught:
        config(CHAT_TOP_K_MIN="10", CHAT_TOP_K_MAX="5", CHAT_TEMPERATURE="1.5")
    assert caught.value.problems == (
        "CHAT_TEMPERATURE=1.5 is outside [0.0, 1.2]: expected a default between "
        "CHAT_TEMPERATURE_MIN and CHAT_TEMPERATURE_MAX",
        "CHAT_TOP_K_MIN=10 is greater than CHAT_TOP_K_MAX=5: expected MIN <= MAX",
    )


def test_idle_reason_must_fit_a_close_frame() -> None:
    assert config(WS_CLOSE_IDLE_REASON="bye").ws_close_idle_reason == "bye"
    with pytest.raises(ConfigError, match="WS_CLOSE_IDLE_REASON"):
        config(WS_CLOSE_IDLE_REASON="x" * 124)


def test_table_and_dataclass_agree() -> None:
    names = [var.name for var in ENV_VARS]
    assert len(names) == len(set(names))
    assert {var.field for var in ENV_VARS} == {f.name for f in dataclasses.fields(BridgeConfig)}
    assert {var.name for var in ENV_VARS if var.default is REQUIRED} == {
        "TEXT_API_KEY",
        "MAX_CONCURRENT_CONNECTIONS",
    }
    for var in ENV_VARS:
        assert var.doc.endswith("."), var.name


def test_env_table_markdown_lists_every_variable_once() -> None:
    table = env_table_markdown()
    lines = table.strip().splitlines()
    assert lines[0].startswith("| Variable | Type | Default |")
    assert len(lines) == 2 + len(ENV_VARS)
    for var in ENV_VARS:
        assert sum(f"| `{var.name}` |" in line for line in lines) == 1
    assert "| `TEXT_API_KEY` | str | required |" in table
    assert "| `WS_MAX_CANCELS_PER_WINDOW` | int | = `WS_MAX_MESSAGES_PER_WINDOW` |" in table
    bridge_only = env_table_markdown()
    assert "`CHAT_MODEL`" not in bridge_only
    assert "`TEXT_API_KEY`" in bridge_only


def test_derived_defaults_are_documented() -> None:
    derived = [var for var in ENV_VARS if isinstance(var.default, Derived)]
    assert {var.name for var in derived} == {
        "WS_MAX_CANCELS_PER_WINDOW",
        "WS_CANCEL_WINDOW_SECONDS",
        "PROMPT_SANITIZE_MAX_CHARS",
        "OPENAI_PORT",
    }


def test_openai_port_follows_an_any_free_bridge_port() -> None:
    base = {"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "1"}
    assert BridgeConfig.from_env(base).openai_port == 8080
    assert BridgeConfig.from_env({**base, "BRIDGE_PORT": "0"}).openai_port == 0
    assert (
        BridgeConfig.from_env({**base, "BRIDGE_PORT": "0", "OPENAI_PORT": "-1"}).openai_port == -1
    )


def test_config_is_immutable() -> None:
    cfg = config()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.bridge_port = 1  # type: ignore[misc]
