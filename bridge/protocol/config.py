"""The bridge configuration: one frozen ``BridgeConfig`` built once from the environment.

``ENV_VARS`` is the single source of truth for every environment variable of docs/protocol.md
(§0, §3, §9.3, §10, §11, §12, §14) and the bridge's own ones: name, type, default and meaning.
``BridgeConfig.from_env`` parses it, ``env_table_markdown`` renders it for the README.

Rules:

* An empty value counts as unset (the default applies; a required variable is missing).
* Every bad value is reported, all at once, in one ``ConfigError`` that names the variable,
  the bad value and what is expected. Secrets are never echoed.
* Nothing else in the bridge reads ``os.environ``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final, Literal

from bridge.protocol.errors import IDLE_CLOSE_REASON, CloseCode

DeployMode = Literal["both", "chat", "tool"]
DEPLOY_MODES: Final[tuple[DeployMode, ...]] = ("both", "chat", "tool")

# The sampling keys of §14, in validation order, with their value type.
SAMPLING_KEYS: Final[tuple[tuple[str, type[int | float]], ...]] = (
    ("temperature", float),
    ("top_p", float),
    ("top_k", int),
    ("min_p", float),
    ("repetition_penalty", float),
    ("presence_penalty", float),
    ("frequency_penalty", float),
)


class ConfigError(ValueError):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"invalid bridge configuration:\n{lines}")


# ---------------------------------------------------------------------------------------------
# Value parsers: each knows what it expects, for the error message and the README table.
# ---------------------------------------------------------------------------------------------


class _Parser:
    expected: str
    type_name: str

    def __call__(self, raw: str) -> Any:
        raise NotImplementedError


class _Int(_Parser):
    type_name = "int"

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.expected = _range_text("an integer", minimum, maximum)

    def __call__(self, raw: str) -> int:
        value = int(raw.strip())
        _check_range(value, self.minimum, self.maximum)
        return value


class _Float(_Parser):
    type_name = "float"

    def __init__(
        self,
        minimum: float | None = None,
        maximum: float | None = None,
        *,
        exclusive_minimum: bool = False,
    ) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.exclusive_minimum = exclusive_minimum
        self.expected = _range_text("a number", minimum, maximum, exclusive_minimum)

    def __call__(self, raw: str) -> float:
        value = float(raw.strip())
        if not math.isfinite(value):
            raise ValueError("not finite")
        if self.exclusive_minimum and self.minimum is not None and value <= self.minimum:
            raise ValueError("out of range")
        _check_range(value, self.minimum, self.maximum)
        return value


class _Bool(_Parser):
    type_name = "bool"
    expected = "a boolean (1/0, true/false, yes/no, on/off)"
    _TRUE = frozenset({"1", "true", "yes", "on"})
    _FALSE = frozenset({"0", "false", "no", "off"})

    def __call__(self, raw: str) -> bool:
        value = raw.strip().lower()
        if value in self._TRUE:
            return True
        if value in self._FALSE:
            return False
        raise ValueError("not a boolean")


class _Choice(_Parser):
    type_name = "choice"

    def __init__(self, choices: tuple[str, ...]) -> None:
        self.choices = choices
        self.expected = "one of " + ", ".join(choices)

    def __call__(self, raw: str) -> str:
        value = raw.strip().lower()
        if value not in self.choices:
            raise ValueError("not a choice")
        return value


class _Text(_Parser):
    type_name = "str"

    def __init__(self, *, strip: bool = True, max_utf8_bytes: int | None = None) -> None:
        self.strip = strip
        self.max_utf8_bytes = max_utf8_bytes
        self.expected = "a non-empty string"
        if max_utf8_bytes is not None:
            self.expected += f" of at most {max_utf8_bytes} UTF-8 bytes"

    def __call__(self, raw: str) -> str:
        value = raw.strip() if self.strip else raw
        if not value.strip():
            raise ValueError("empty")
        if self.max_utf8_bytes is not None and len(value.encode()) > self.max_utf8_bytes:
            raise ValueError("too long")
        return value


def _range_text(
    what: str, minimum: float | None, maximum: float | None, exclusive: bool = False
) -> str:
    if minimum is not None and maximum is not None:
        if exclusive:
            return f"{what} > {minimum} and <= {maximum}"
        return f"{what} between {minimum} and {maximum}"
    if minimum is not None:
        return f"{what} {'>' if exclusive else '>='} {minimum}"
    if maximum is not None:
        return f"{what} <= {maximum}"
    return what


def _check_range(value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError("out of range")
    if maximum is not None and value > maximum:
        raise ValueError("out of range")


# ---------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------


class _Required:
    """Marker: the variable has no default."""


REQUIRED: Final = _Required()


@dataclass(frozen=True, slots=True)
class Derived:
    """A default computed from variables earlier in the table."""

    describe: str
    compute: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable: ``field`` is the ``BridgeConfig`` attribute it fills."""

    name: str
    parse: _Parser
    default: Any
    doc: str
    section: str
    secret: bool = False
    used_by: Literal["bridge", "models"] = "bridge"

    @property
    def field(self) -> str:
        return self.name.lower()

    @property
    def default_text(self) -> str:
        if self.default is REQUIRED:
            return "required"
        if isinstance(self.default, Derived):
            return self.default.describe
        if self.default is None:
            return "unset"
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return f"`{self.default}`"


_POSITIVE_INT = _Int(minimum=1)
_CLOSE_CODE = _Int(minimum=1000, maximum=4999)
# Sampling bounds: any finite number; they are checked against each other below.
_BOUND = _Float()


ENV_VARS: Final[tuple[EnvVar, ...]] = (
    # --- deployment and required settings (§0) ---
    EnvVar(
        "TEXT_API_KEY",
        _Text(),
        REQUIRED,
        "API key clients must present (query `api_key`, header `X-API-Key` or "
        "`Authorization: Bearer`).",
        "deployment",
        secret=True,
    ),
    EnvVar(
        "MAX_CONCURRENT_CONNECTIONS",
        _Int(minimum=0),
        REQUIRED,
        "WebSocket connections served at once; 0 rejects every client.",
        "deployment",
    ),
    EnvVar(
        "DEPLOY_MODELS",
        _Choice(DEPLOY_MODES),
        "both",
        "Which engines serve turns: `both` (tool decision, then chat), `chat` or `tool`.",
        "deployment",
    ),
    # --- the bridge process ---
    EnvVar(
        "TRITON_GRPC_URL",
        _Text(),
        "127.0.0.1:8001",
        "Triton gRPC endpoint the bridge calls.",
        "bridge",
    ),
    EnvVar("BRIDGE_HOST", _Text(), "0.0.0.0", "Address the bridge listens on.", "bridge"),
    EnvVar(
        "BRIDGE_PORT",
        _Int(0, 65535),
        8000,
        "Port the bridge listens on (0: any free port).",
        "bridge",
    ),
    EnvVar(
        "CONCURRENT_MODEL_CALL",
        _Bool(),
        False,
        "Start the chat stream while the tool decision runs; tokens are held until the "
        "`toolcall` frame has been sent.",
        "bridge",
    ),
    # --- the OpenAI-compatible endpoint (README "OpenAI-compatible endpoint") ---
    EnvVar(
        "OPENAI_PORT",
        _Int(-1, 65535),
        Derived(
            "`8080`; `0` when `BRIDGE_PORT` is 0",
            lambda env: 0 if env["bridge_port"] == 0 else 8080,
        ),
        "Port of the OpenAI-compatible HTTP endpoint (`/v1/chat/completions`, `/v1/models`) on "
        "`BRIDGE_HOST`; 0: any free port, -1: off.",
        "openai",
    ),
    EnvVar(
        "OPENAI_MODEL_NAME",
        _Text(),
        "yap",
        "Model id the OpenAI endpoint serves (`GET /v1/models`; requests must name it).",
        "openai",
    ),
    EnvVar(
        "OPENAI_MAX_REQUESTS_PER_WINDOW",
        _Int(),
        600,
        "OpenAI requests per client address and window (429 with `Retry-After` beyond); "
        "<= 0 disables.",
        "openai",
    ),
    EnvVar(
        "OPENAI_REQUEST_WINDOW_SECONDS",
        _Float(),
        60.0,
        "Sliding window of the OpenAI request limiter, seconds; <= 0 disables.",
        "openai",
    ),
    # --- admission and close codes (§3, §9.3) ---
    EnvVar(
        "WS_HANDSHAKE_ACQUIRE_TIMEOUT_S",
        _Float(minimum=0),
        0.5,
        "Seconds to wait for a free connection slot before `server_at_capacity`.",
        "websocket",
    ),
    EnvVar(
        "WS_CLOSE_CLIENT_REQUEST_CODE",
        _CLOSE_CODE,
        int(CloseCode.CLIENT_REQUEST),
        "Close code after `connection_closed` (client `end`).",
        "websocket",
    ),
    EnvVar(
        "WS_CLOSE_UNAUTHORIZED_CODE",
        _CLOSE_CODE,
        int(CloseCode.UNAUTHORIZED),
        "Close code after `authentication_failed` (start validation always uses 1008).",
        "websocket",
    ),
    EnvVar(
        "WS_CLOSE_BUSY_CODE",
        _CLOSE_CODE,
        int(CloseCode.BUSY),
        "Close code after `server_at_capacity`.",
        "websocket",
    ),
    EnvVar(
        "WS_CLOSE_IDLE_CODE",
        _CLOSE_CODE,
        int(CloseCode.IDLE),
        "Close code of the idle watchdog.",
        "websocket",
    ),
    EnvVar(
        "WS_CLOSE_IDLE_REASON",
        _Text(max_utf8_bytes=123),
        IDLE_CLOSE_REASON,
        "Close reason of the idle watchdog.",
        "websocket",
    ),
    # --- rate limits (§10.1) ---
    EnvVar(
        "WS_MAX_MESSAGES_PER_WINDOW",
        _Int(),
        25,
        "Messages per connection and window (all but cancel/ping/pong/end); <= 0 disables.",
        "limits",
    ),
    EnvVar(
        "WS_MESSAGE_WINDOW_SECONDS",
        _Float(),
        60.0,
        "Sliding window of the message limiter, seconds; <= 0 disables.",
        "limits",
    ),
    EnvVar(
        "WS_MAX_CANCELS_PER_WINDOW",
        _Int(),
        Derived(
            "= `WS_MAX_MESSAGES_PER_WINDOW`",
            lambda env: env["ws_max_messages_per_window"],
        ),
        "Cancels per connection and window; <= 0 disables.",
        "limits",
    ),
    EnvVar(
        "WS_CANCEL_WINDOW_SECONDS",
        _Float(),
        Derived(
            "= `WS_MESSAGE_WINDOW_SECONDS`",
            lambda env: env["ws_message_window_seconds"],
        ),
        "Sliding window of the cancel limiter, seconds; <= 0 disables.",
        "limits",
    ),
    EnvVar(
        "CHAT_PROMPT_UPDATE_MAX_PER_WINDOW",
        _Int(),
        4,
        "`chat_prompt` updates per session and window; <= 0 disables.",
        "limits",
    ),
    EnvVar(
        "CHAT_PROMPT_UPDATE_WINDOW_SECONDS",
        _Float(),
        60.0,
        "Sliding window of the persona update limiter, seconds; <= 0 disables.",
        "limits",
    ),
    # --- timers (§10.2, §10.4) ---
    EnvVar(
        "WS_IDLE_TIMEOUT_S",
        _Float(minimum=0, exclusive_minimum=True),
        150.0,
        "Close with the idle code after this many seconds without an inbound message.",
        "timers",
    ),
    EnvVar(
        "WS_WATCHDOG_TICK_S",
        _Float(minimum=0, exclusive_minimum=True),
        5.0,
        "How often the idle watchdog checks, seconds.",
        "timers",
    ),
    EnvVar(
        "SESSION_IDLE_TTL_SECONDS",
        _Float(minimum=0, exclusive_minimum=True),
        1800.0,
        "Evict a session without a running turn after this many idle seconds.",
        "timers",
    ),
    EnvVar(
        "GEN_TIMEOUT_S",
        _Float(minimum=0, exclusive_minimum=True),
        60.0,
        "Wall-clock limit of one chat stream, seconds.",
        "timers",
    ),
    EnvVar(
        "TOOL_TIMEOUT_S",
        _Float(minimum=0, exclusive_minimum=True),
        10.0,
        "Limit of one tool decision, seconds.",
        "timers",
    ),
    EnvVar(
        "DRAIN_TIMEOUT_S",
        _Float(minimum=0),
        30.0,
        "On SIGTERM: seconds running turns may take to finish before their sockets are closed "
        "with 1012 (idle sockets close at once with 1001; new connections are refused).",
        "timers",
    ),
    EnvVar(
        "STREAM_FLUSH_MS",
        _Float(minimum=0),
        0.0,
        "> 0 coalesces output deltas into one `token` frame per this many milliseconds.",
        "timers",
    ),
    # --- sizes and token budgets (§10.3) ---
    EnvVar("CHAT_MAX_LEN", _POSITIVE_INT, 5025, "Chat engine `max_model_len`.", "sizes"),
    EnvVar(
        "CHAT_MAX_OUT",
        _POSITIVE_INT,
        150,
        "`max_tokens` of each chat generation.",
        "sizes",
    ),
    EnvVar(
        "CHAT_PROMPT_MAX_TOKENS",
        _POSITIVE_INT,
        1650,
        "System prompt limit, chat tokenizer tokens.",
        "sizes",
    ),
    EnvVar(
        "HISTORY_MAX_TOKENS",
        _POSITIVE_INT,
        3000,
        "History budget, chat tokens; the oldest turns are dropped.",
        "sizes",
    ),
    EnvVar(
        "USER_UTT_MAX_TOKENS",
        _POSITIVE_INT,
        350,
        "Utterance budget, tokens; the start of the utterance is kept.",
        "sizes",
    ),
    EnvVar(
        "PROMPT_SANITIZE_MAX_CHARS",
        _POSITIVE_INT,
        Derived("`CHAT_MAX_LEN * 6`", lambda env: env["chat_max_len"] * 6),
        "Character limit of a sanitised system prompt.",
        "sizes",
    ),
    EnvVar(
        "SCREEN_PREFIX_MAX_CHARS",
        _POSITIVE_INT,
        30,
        "Character limit of `check_screen_prefix` / `screen_checked_prefix`.",
        "sizes",
    ),
    EnvVar(
        "PERSONALITY_MAX_LEN",
        _POSITIVE_INT,
        20,
        "Longest accepted `personality`.",
        "sizes",
    ),
    EnvVar(
        "MAX_PERSONALITIES",
        _POSITIVE_INT,
        50,
        "Most entries in `personalities`.",
        "sizes",
    ),
    EnvVar(
        "MAX_SYNONYMS_PER_PERSONALITY",
        _Int(minimum=0),
        10,
        "Most synonyms per personality.",
        "sizes",
    ),
    # --- protocol strings (§4.1, §5.1.1) ---
    EnvVar(
        "WS_END_SENTINEL",
        _Text(),
        "__END__",
        "Raw text frame meaning `end`.",
        "protocol",
    ),
    EnvVar(
        "WS_CANCEL_SENTINEL",
        _Text(),
        "__CANCEL__",
        "Raw text frame meaning `cancel`.",
        "protocol",
    ),
    EnvVar(
        "CHECK_SCREEN_PREFIX",
        _Text(),
        "MUST CHECK SCREEN:",
        "Default prefix of the utterance when the tool says yes.",
        "protocol",
    ),
    EnvVar(
        "SCREEN_CHECKED_PREFIX",
        _Text(),
        "ON THE SCREEN NOW:",
        "Default prefix of a `followup` analysis text.",
        "protocol",
    ),
    # --- chat generation (§11, §14) ---
    EnvVar(
        "CHAT_LOGIT_BIAS_FILE",
        _Text(),
        None,
        "JSON object `{text: bias}` replacing the default phrase-bias map (sent with every chat "
        "request; the chat model turns each phrase into token ids).",
        "chat",
    ),
    EnvVar("CHAT_TEMPERATURE", _Float(), 0.8, "Default temperature.", "sampling"),
    EnvVar("CHAT_TEMPERATURE_MIN", _BOUND, 0.0, "Lowest accepted temperature.", "sampling"),
    EnvVar("CHAT_TEMPERATURE_MAX", _BOUND, 1.2, "Highest accepted temperature.", "sampling"),
    EnvVar("CHAT_TOP_P", _Float(), 0.95, "Default top_p.", "sampling"),
    EnvVar("CHAT_TOP_P_MIN", _BOUND, 0.6, "Lowest accepted top_p.", "sampling"),
    EnvVar("CHAT_TOP_P_MAX", _BOUND, 1.0, "Highest accepted top_p.", "sampling"),
    EnvVar("CHAT_TOP_K", _Int(), 30, "Default top_k.", "sampling"),
    EnvVar("CHAT_TOP_K_MIN", _Int(), 0, "Lowest accepted top_k.", "sampling"),
    EnvVar("CHAT_TOP_K_MAX", _Int(), 60, "Highest accepted top_k.", "sampling"),
    EnvVar("CHAT_MIN_P", _Float(), 0.0, "Default min_p.", "sampling"),
    EnvVar("CHAT_MIN_P_MIN", _BOUND, 0.0, "Lowest accepted min_p.", "sampling"),
    EnvVar("CHAT_MIN_P_MAX", _BOUND, 0.2, "Highest accepted min_p.", "sampling"),
    EnvVar(
        "CHAT_REPETITION_PENALTY",
        _Float(),
        1.0,
        "Default repetition_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_REPETITION_PENALTY_MIN",
        _BOUND,
        1.0,
        "Lowest accepted repetition_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_REPETITION_PENALTY_MAX",
        _BOUND,
        1.3,
        "Highest accepted repetition_penalty.",
        "sampling",
    ),
    EnvVar("CHAT_PRESENCE_PENALTY", _Float(), 0.0, "Default presence_penalty.", "sampling"),
    EnvVar(
        "CHAT_PRESENCE_PENALTY_MIN",
        _BOUND,
        0.0,
        "Lowest accepted presence_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_PRESENCE_PENALTY_MAX",
        _BOUND,
        0.5,
        "Highest accepted presence_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_FREQUENCY_PENALTY",
        _Float(),
        0.0,
        "Default frequency_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_FREQUENCY_PENALTY_MIN",
        _BOUND,
        0.0,
        "Lowest accepted frequency_penalty.",
        "sampling",
    ),
    EnvVar(
        "CHAT_FREQUENCY_PENALTY_MAX",
        _BOUND,
        0.5,
        "Highest accepted frequency_penalty.",
        "sampling",
    ),
    # --- tool decision (§12) ---
    # --- engine housekeeping (§10.4) ---
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

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> BridgeConfig:
        """Parse and check every variable; raise one ``ConfigError`` listing all problems."""
        values: dict[str, Any] = {}
        problems: list[str] = []
        for var in ENV_VARS:
            raw = environ.get(var.name, "")
            if raw.strip() == "":
                if var.default is REQUIRED:
                    problems.append(f"{var.name} is required: expected {var.parse.expected}")
                    values[var.field] = None
                elif isinstance(var.default, Derived):
                    try:
                        values[var.field] = var.default.compute(values)
                    except (
                        TypeError,
                        KeyError,
                    ):  # a source variable was itself invalid
                        values[var.field] = None
                else:
                    values[var.field] = var.default
                continue
            try:
                values[var.field] = var.parse(raw)
            except ValueError:
                shown = "<redacted>" if var.secret else repr(raw)
                problems.append(f"{var.name}={shown} is invalid: expected {var.parse.expected}")
                values[var.field] = None
        problems.extend(_cross_checks(values))
        if problems:
            raise ConfigError(problems)
        return cls(**values)


def _cross_checks(values: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    end, cancel = values.get("ws_end_sentinel"), values.get("ws_cancel_sentinel")
    if end is not None and end == cancel:
        problems.append(
            f"WS_END_SENTINEL and WS_CANCEL_SENTINEL are both {end!r}: expected two different "
            "strings"
        )
    for key, _kind in SAMPLING_KEYS:
        minimum = values.get(f"chat_{key}_min")
        maximum = values.get(f"chat_{key}_max")
        default = values.get(f"chat_{key}")
        upper = f"CHAT_{key.upper()}"
        if minimum is None or maximum is None:
            continue
        if minimum > maximum:
            problems.append(
                f"{upper}_MIN={minimum} is greater than {upper}_MAX={maximum}: expected MIN <= MAX"
            )
        elif default is not None and not minimum <= default <= maximum:
            problems.append(
                f"{upper}={default} is outside [{minimum}, {maximum}]: expected a default "
                f"between {upper}_MIN and {upper}_MAX"
            )
    return problems


def env_table_markdown(*, used_by: str | None = None) -> str:
    """The README table of environment variables, generated from ``ENV_VARS``."""
    rows = [
        "| Variable | Type | Default | Expected | Used by | Meaning |",
        "|---|---|---|---|---|---|",
    ]
    for var in ENV_VARS:
        if used_by is not None and var.used_by != used_by:
            continue
        doc = var.doc.replace("|", "\\|")
        rows.append(
            f"| `{var.name}` | {var.parse.type_name} | {var.default_text} | "
            f"{var.parse.expected} | {var.used_by} | {doc} |"
        )
    return "\n".join(rows) + "\n"


def _check_table_matches_dataclass() -> None:
    # One source of truth: every BridgeConfig field has exactly one table row and vice versa.
    table = [var.field for var in ENV_VARS]
    declared = [f.name for f in fields(BridgeConfig)]
    if sorted(table) != sorted(declared) or len(set(table)) != len(table):
        raise RuntimeError("ENV_VARS and BridgeConfig fields disagree")


_check_table_matches_dataclass()
