"""The bridge configuration: one frozen ``BridgeConfig`` built once from the environment.

``ENV_VARS`` lists every environment variable the bridge reads (docs/protocol.md §0, §3, §9.3,
§10, §11, §12, §14), as settings of the kernel ``common.settings``. Those the Triton models read
too (``DEPLOY_MODELS``, the token budgets, sampling defaults and ranges, the phrase-bias file)
are declared once in ``common.deploy`` and ``common.generation`` and only listed here.
``BridgeConfig.from_env`` resolves the table, ``env_table_markdown`` renders it for the README.

Rules (the kernel's): an empty value counts as unset; every bad value is reported, all at once,
in one ``ConfigError`` that names the variable, the bad value and what is expected; secrets are
never echoed. Nothing else in the bridge reads ``os.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

from bridge.protocol.errors import IDLE_CLOSE_REASON, CloseCode
from common.deploy import DEPLOY_MODELS, DeployMode
from common.generation import (
    CHAT_LOGIT_BIAS_FILE,
    CHAT_MAX_LEN,
    CHAT_MAX_OUT,
    SAMPLING_KEYS,
    SAMPLING_SETTINGS,
    load_phrase_bias,
    sampling_problems,
)
from common.settings import (
    REQUIRED,
    Bool,
    Derived,
    Float,
    Int,
    Setting,
    SettingsError,
    Text,
    collect,
    markdown_table,
)

__all__ = [
    "ENV_VARS",
    "REQUIRED",
    "SAMPLING_KEYS",
    "BridgeConfig",
    "ConfigError",
    "DeployMode",
    "Derived",
    "env_table_markdown",
]


class ConfigError(SettingsError):
    """One or more environment variables of the bridge are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid bridge configuration:\n{lines}", problems)


_POSITIVE_INT = Int(minimum=1)
_CLOSE_CODE = Int(minimum=1000, maximum=4999)


ENV_VARS: Final[tuple[Setting, ...]] = (
    # --- deployment and required settings (§0) ---
    Setting(
        "TEXT_API_KEY",
        Text(),
        REQUIRED,
        "API key clients must present (query `api_key`, header `X-API-Key` or "
        "`Authorization: Bearer`).",
        secret=True,
    ),
    Setting(
        "MAX_CONCURRENT_CONNECTIONS",
        Int(minimum=0),
        REQUIRED,
        "WebSocket connections served at once; 0 rejects every client.",
    ),
    DEPLOY_MODELS,
    # --- the bridge process ---
    Setting(
        "TRITON_GRPC_URL",
        Text(),
        "127.0.0.1:8001",
        "Triton gRPC endpoint the bridge calls.",
    ),
    Setting("BRIDGE_HOST", Text(), "0.0.0.0", "Address the bridge listens on."),
    Setting(
        "BRIDGE_PORT",
        Int(0, 65535),
        8000,
        "Port the bridge listens on (0: any free port).",
    ),
    Setting(
        "CONCURRENT_MODEL_CALL",
        Bool(),
        False,
        "Start the chat stream while the tool decision runs; tokens are held until the "
        "`toolcall` frame has been sent.",
    ),
    # --- the OpenAI-compatible endpoint (README "OpenAI-compatible endpoint") ---
    Setting(
        "OPENAI_PORT",
        Int(-1, 65535),
        Derived(
            "`8080`; `0` when `BRIDGE_PORT` is 0",
            lambda env: 0 if env["bridge_port"] == 0 else 8080,
        ),
        "Port of the OpenAI-compatible HTTP endpoint (`/v1/chat/completions`, `/v1/models`) on "
        "`BRIDGE_HOST`; 0: any free port, -1: off.",
    ),
    Setting(
        "OPENAI_MODEL_NAME",
        Text(),
        "yap",
        "Model id the OpenAI endpoint serves (`GET /v1/models`; requests must name it).",
    ),
    Setting(
        "OPENAI_MAX_REQUESTS_PER_WINDOW",
        Int(),
        600,
        "OpenAI requests per client address and window (429 with `Retry-After` beyond); "
        "<= 0 disables.",
    ),
    Setting(
        "OPENAI_REQUEST_WINDOW_SECONDS",
        Float(),
        60.0,
        "Sliding window of the OpenAI request limiter, seconds; <= 0 disables.",
    ),
    # --- admission and close codes (§3, §9.3) ---
    Setting(
        "WS_HANDSHAKE_ACQUIRE_TIMEOUT_S",
        Float(minimum=0),
        0.5,
        "Seconds to wait for a free connection slot before `server_at_capacity`.",
    ),
    Setting(
        "WS_CLOSE_CLIENT_REQUEST_CODE",
        _CLOSE_CODE,
        int(CloseCode.CLIENT_REQUEST),
        "Close code after `connection_closed` (client `end`).",
    ),
    Setting(
        "WS_CLOSE_UNAUTHORIZED_CODE",
        _CLOSE_CODE,
        int(CloseCode.UNAUTHORIZED),
        "Close code after `authentication_failed` (start validation always uses 1008).",
    ),
    Setting(
        "WS_CLOSE_BUSY_CODE",
        _CLOSE_CODE,
        int(CloseCode.BUSY),
        "Close code after `server_at_capacity`.",
    ),
    Setting(
        "WS_CLOSE_IDLE_CODE",
        _CLOSE_CODE,
        int(CloseCode.IDLE),
        "Close code of the idle watchdog.",
    ),
    Setting(
        "WS_CLOSE_IDLE_REASON",
        Text(max_utf8_bytes=123),
        IDLE_CLOSE_REASON,
        "Close reason of the idle watchdog.",
    ),
    # --- rate limits (§10.1) ---
    Setting(
        "WS_MAX_MESSAGES_PER_WINDOW",
        Int(),
        25,
        "Messages per connection and window (all but cancel/ping/pong/end); <= 0 disables.",
    ),
    Setting(
        "WS_MESSAGE_WINDOW_SECONDS",
        Float(),
        60.0,
        "Sliding window of the message limiter, seconds; <= 0 disables.",
    ),
    Setting(
        "WS_MAX_CANCELS_PER_WINDOW",
        Int(),
        Derived(
            "= `WS_MAX_MESSAGES_PER_WINDOW`",
            lambda env: env["ws_max_messages_per_window"],
        ),
        "Cancels per connection and window; <= 0 disables.",
    ),
    Setting(
        "WS_CANCEL_WINDOW_SECONDS",
        Float(),
        Derived(
            "= `WS_MESSAGE_WINDOW_SECONDS`",
            lambda env: env["ws_message_window_seconds"],
        ),
        "Sliding window of the cancel limiter, seconds; <= 0 disables.",
    ),
    Setting(
        "CHAT_PROMPT_UPDATE_MAX_PER_WINDOW",
        Int(),
        4,
        "`chat_prompt` updates per session and window; <= 0 disables.",
    ),
    Setting(
        "CHAT_PROMPT_UPDATE_WINDOW_SECONDS",
        Float(),
        60.0,
        "Sliding window of the persona update limiter, seconds; <= 0 disables.",
    ),
    # --- timers (§10.2, §10.4) ---
    Setting(
        "WS_IDLE_TIMEOUT_S",
        Float(minimum=0, exclusive_minimum=True),
        150.0,
        "Close with the idle code after this many seconds without an inbound message.",
    ),
    Setting(
        "WS_WATCHDOG_TICK_S",
        Float(minimum=0, exclusive_minimum=True),
        5.0,
        "How often the idle watchdog checks, seconds.",
    ),
    Setting(
        "SESSION_IDLE_TTL_SECONDS",
        Float(minimum=0, exclusive_minimum=True),
        1800.0,
        "Evict a session without a running turn after this many idle seconds.",
    ),
    Setting(
        "GEN_TIMEOUT_S",
        Float(minimum=0, exclusive_minimum=True),
        60.0,
        "Wall-clock limit of one chat stream, seconds.",
    ),
    Setting(
        "TOOL_TIMEOUT_S",
        Float(minimum=0, exclusive_minimum=True),
        10.0,
        "Limit of one tool decision, seconds.",
    ),
    Setting(
        "DRAIN_TIMEOUT_S",
        Float(minimum=0),
        30.0,
        "On SIGTERM: seconds running turns may take to finish before their sockets are closed "
        "with 1012 (idle sockets close at once with 1001; new connections are refused).",
    ),
    Setting(
        "STREAM_FLUSH_MS",
        Float(minimum=0),
        0.0,
        "> 0 coalesces output deltas into one `token` frame per this many milliseconds.",
    ),
    # --- sizes and token budgets (§10.3) ---
    CHAT_MAX_LEN,
    CHAT_MAX_OUT,
    Setting(
        "CHAT_PROMPT_MAX_TOKENS",
        _POSITIVE_INT,
        1650,
        "System prompt limit, chat tokenizer tokens.",
    ),
    Setting(
        "HISTORY_MAX_TOKENS",
        _POSITIVE_INT,
        3000,
        "History budget, chat tokens; the oldest turns are dropped.",
    ),
    Setting(
        "USER_UTT_MAX_TOKENS",
        _POSITIVE_INT,
        350,
        "Utterance budget, tokens; the start of the utterance is kept.",
    ),
    Setting(
        "PROMPT_SANITIZE_MAX_CHARS",
        _POSITIVE_INT,
        Derived("`CHAT_MAX_LEN * 6`", lambda env: env[CHAT_MAX_LEN.key] * 6),
        "Character limit of a sanitised system prompt.",
    ),
    Setting(
        "SCREEN_PREFIX_MAX_CHARS",
        _POSITIVE_INT,
        30,
        "Character limit of `check_screen_prefix` / `screen_checked_prefix`.",
    ),
    Setting(
        "PERSONALITY_MAX_LEN",
        _POSITIVE_INT,
        20,
        "Longest accepted `personality`.",
    ),
    Setting(
        "MAX_PERSONALITIES",
        _POSITIVE_INT,
        50,
        "Most entries in `personalities`.",
    ),
    Setting(
        "MAX_SYNONYMS_PER_PERSONALITY",
        Int(minimum=0),
        10,
        "Most synonyms per personality.",
    ),
    # --- protocol strings (§4.1, §5.1.1) ---
    Setting(
        "WS_END_SENTINEL",
        Text(),
        "__END__",
        "Raw text frame meaning `end`.",
    ),
    Setting(
        "WS_CANCEL_SENTINEL",
        Text(),
        "__CANCEL__",
        "Raw text frame meaning `cancel`.",
    ),
    Setting(
        "CHECK_SCREEN_PREFIX",
        Text(),
        "MUST CHECK SCREEN:",
        "Default prefix of the utterance when the tool says yes.",
    ),
    Setting(
        "SCREEN_CHECKED_PREFIX",
        Text(),
        "ON THE SCREEN NOW:",
        "Default prefix of a `followup` analysis text.",
    ),
    # --- chat generation (§11, §14) ---
    CHAT_LOGIT_BIAS_FILE,
    *SAMPLING_SETTINGS,
)


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    """Every setting of the bridge, typed; build it with ``BridgeConfig.from_env``."""

    text_api_key: str
    max_concurrent_connections: int
    deploy_models: DeployMode
    triton_grpc_url: str
    bridge_host: str
    bridge_port: int
    concurrent_model_call: bool
    openai_port: int
    openai_model_name: str
    openai_max_requests_per_window: int
    openai_request_window_seconds: float
    ws_handshake_acquire_timeout_s: float
    ws_close_client_request_code: int
    ws_close_unauthorized_code: int
    ws_close_busy_code: int
    ws_close_idle_code: int
    ws_close_idle_reason: str
    ws_max_messages_per_window: int
    ws_message_window_seconds: float
    ws_max_cancels_per_window: int
    ws_cancel_window_seconds: float
    chat_prompt_update_max_per_window: int
    chat_prompt_update_window_seconds: float
    ws_idle_timeout_s: float
    ws_watchdog_tick_s: float
    session_idle_ttl_seconds: float
    gen_timeout_s: float
    tool_timeout_s: float
    drain_timeout_s: float
    stream_flush_ms: float
    chat_max_len: int
    chat_max_out: int
    chat_prompt_max_tokens: int
    history_max_tokens: int
    user_utt_max_tokens: int
    prompt_sanitize_max_chars: int
    screen_prefix_max_chars: int
    personality_max_len: int
    max_personalities: int
    max_synonyms_per_personality: int
    ws_end_sentinel: str
    ws_cancel_sentinel: str
    check_screen_prefix: str
    screen_checked_prefix: str
    chat_logit_bias_file: str | None
    chat_temperature: float
    chat_temperature_min: float
    chat_temperature_max: float
    chat_top_p: float
    chat_top_p_min: float
    chat_top_p_max: float
    chat_top_k: int
    chat_top_k_min: int
    chat_top_k_max: int
    chat_min_p: float
    chat_min_p_min: float
    chat_min_p_max: float
    chat_repetition_penalty: float
    chat_repetition_penalty_min: float
    chat_repetition_penalty_max: float
    chat_presence_penalty: float
    chat_presence_penalty_min: float
    chat_presence_penalty_max: float
    chat_frequency_penalty: float
    chat_frequency_penalty_min: float
    chat_frequency_penalty_max: float

    @property
    def deploy_chat(self) -> bool:
        return self.deploy_models in ("both", "chat")

    @property
    def deploy_tool(self) -> bool:
        return self.deploy_models in ("both", "tool")

    def sampling_range(self, key: str) -> tuple[float, float]:
        """Inclusive accepted range of a §14 sampling key (``temperature``, ``top_k``...)."""
        minimum: float = getattr(self, f"chat_{key}_min")
        maximum: float = getattr(self, f"chat_{key}_max")
        return minimum, maximum

    def sampling_default(self, key: str) -> float:
        """Server default of a §14 sampling key."""
        value: float = getattr(self, f"chat_{key}")
        return value

    @property
    def sampling_defaults(self) -> dict[str, Any]:
        """The server default of every §14 sampling key."""
        return {key: self.sampling_default(key) for key, _kind in SAMPLING_KEYS}

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BridgeConfig:
        """Parse and check every variable; raise one ``ConfigError`` listing all problems."""
        found, problems = collect(ENV_VARS, {}, environ)
        messages = [str(problem) for problem in problems]
        messages.extend(_cross_checks(found.values))
        if messages:
            raise ConfigError(messages)
        return cls(**{var.field: found[var.key] for var in ENV_VARS})


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    end, cancel = values.get("ws_end_sentinel"), values.get("ws_cancel_sentinel")
    if end is not None and end == cancel:
        problems.append(
            f"WS_END_SENTINEL and WS_CANCEL_SENTINEL are both {end!r}: expected two different "
            "strings"
        )
    bias_file = values.get("chat_logit_bias_file")
    if bias_file:
        try:
            load_phrase_bias(bias_file)
        except ValueError as exc:
            problems.append(str(exc))
    return problems + sampling_problems(values)


def env_table_markdown() -> str:
    """The README table of the bridge's environment variables, generated from ``ENV_VARS``."""
    return markdown_table(ENV_VARS) + "\n"


def _check_table_matches_dataclass() -> None:
    # One source of truth: every BridgeConfig field has exactly one table row and vice versa.
    table = [var.field for var in ENV_VARS]
    declared = [f.name for f in fields(BridgeConfig)]
    if sorted(table) != sorted(declared) or len(set(table)) != len(table):
        raise RuntimeError("ENV_VARS and BridgeConfig fields disagree")


_check_table_matches_dataclass()
