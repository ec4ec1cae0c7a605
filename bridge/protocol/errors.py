"""Every error the Yap protocol puts on the wire, in one place (docs/protocol.md §9).

* ``ErrorCode`` lists every ``error_code`` (§9.1) plus the codes this project adds (marked
  "added" below): wrong field types get their own validation codes instead of
  ``internal_error``, and a failed turn ends with an error frame instead of silence.
* ``CloseCode`` lists the WebSocket close codes (§9.3); the configurable ones are only the
  defaults of ``BridgeConfig``.
* ``ProtocolError`` is an error *value* (not an exception): what to send, and whether and how
  to close the connection afterwards.
* The builders below produce the exact message texts of the reference server.

This module must not decide *when* an error happens; that belongs to the callers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Literal

from bridge.protocol.frames import Capacity, ChatPromptAck, ErrorFrame


class ErrorCode(StrEnum):
    """Values of the ``error_code`` field of ``error`` frames."""

    # connection level (§2, §3, §4)
    AUTHENTICATION_FAILED = "authentication_failed"
    SERVER_AT_CAPACITY = "server_at_capacity"
    INVALID_MESSAGE = "invalid_message"
    MESSAGE_RATE_LIMITED = "message_rate_limited"
    CANCEL_RATE_LIMITED = "cancel_rate_limited"
    UNKNOWN_MESSAGE_TYPE = "unknown_message_type"
    # start (§5.1)
    MISSING_SESSION_ID = "missing_session_id"
    INVALID_SESSION_ID = "invalid_session_id"  # added: object/array/float/bool session ids
    MISSING_GENDER = "missing_gender"
    INVALID_GENDER = "invalid_gender"
    MISSING_PERSONALITY = "missing_personality"
    INVALID_PERSONALITY = "invalid_personality"
    MISSING_CHAT_PROMPT = "missing_chat_prompt"
    INVALID_CHAT_PROMPT = "invalid_chat_prompt"
    CHAT_PROMPT_TOO_LONG = "chat_prompt_too_long"
    # sampling (§14)
    INVALID_SAMPLING_PAYLOAD = "invalid_sampling_payload"
    INVALID_TEMPERATURE = "invalid_temperature"
    INVALID_TOP_P = "invalid_top_p"
    INVALID_TOP_K = "invalid_top_k"
    INVALID_MIN_P = "invalid_min_p"
    INVALID_REPETITION_PENALTY = "invalid_repetition_penalty"
    INVALID_PRESENCE_PENALTY = "invalid_presence_penalty"
    INVALID_FREQUENCY_PENALTY = "invalid_frequency_penalty"
    TEMPERATURE_OUT_OF_RANGE = "temperature_out_of_range"
    TOP_P_OUT_OF_RANGE = "top_p_out_of_range"
    TOP_K_OUT_OF_RANGE = "top_k_out_of_range"
    MIN_P_OUT_OF_RANGE = "min_p_out_of_range"
    REPETITION_PENALTY_OUT_OF_RANGE = "repetition_penalty_out_of_range"
    PRESENCE_PENALTY_OUT_OF_RANGE = "presence_penalty_out_of_range"
    FREQUENCY_PENALTY_OUT_OF_RANGE = "frequency_penalty_out_of_range"
    INVALID_SANITIZE_OUTPUT = "invalid_sanitize_output"
    # prefixes (§5.1.1)
    INVALID_CHECK_SCREEN_PREFIX = "invalid_check_screen_prefix"
    INVALID_SCREEN_CHECKED_PREFIX = "invalid_screen_checked_prefix"
    # personalities (§5.1.2)
    MISSING_PERSONALITIES = "missing_personalities"
    INVALID_PERSONALITIES_FORMAT = "invalid_personalities_format"
    EMPTY_PERSONALITIES = "empty_personalities"
    TOO_MANY_PERSONALITIES = "too_many_personalities"
    INVALID_PERSONALITY_NAME = "invalid_personality_name"
    DUPLICATE_PERSONALITY = "duplicate_personality"
    INVALID_PERSONALITY_SYNONYMS = "invalid_personality_synonyms"
    TOO_MANY_SYNONYMS = "too_many_synonyms"
    INVALID_PERSONALITY_SYNONYM = "invalid_personality_synonym"
    DUPLICATE_PERSONALITY_SYNONYM = "duplicate_personality_synonym"
    # added: wrong types that crash the reference with internal_error
    INVALID_HISTORY_TEXT = "invalid_history_text"
    INVALID_USER_UTTERANCE = "invalid_user_utterance"
    INVALID_ANALYSIS_TEXT = "invalid_analysis_text"
    # turn failures (decision 3: a turn never dies silently)
    INTERNAL_ERROR = "internal_error"
    GENERATION_TIMEOUT = "generation_timeout"  # added
    ENGINE_UNAVAILABLE = "engine_unavailable"  # added


class CloseCode(IntEnum):
    """WebSocket close codes (§9.3). The env-configurable ones are defaults of BridgeConfig."""

    CLIENT_REQUEST = 1000  # after connection_closed; WS_CLOSE_CLIENT_REQUEST_CODE
    UNAUTHORIZED = 1008  # authentication failure; WS_CLOSE_UNAUTHORIZED_CODE
    BUSY = 1013  # capacity rejection; WS_CLOSE_BUSY_CODE
    IDLE = 4000  # idle watchdog; WS_CLOSE_IDLE_CODE
    # Every start validation failure closes with 1008, whatever WS_CLOSE_UNAUTHORIZED_CODE is.
    VALIDATION = 1008


IDLE_CLOSE_REASON = "idle_timeout"  # default of WS_CLOSE_IDLE_REASON

RateLimitKind = Literal["message", "cancel"]


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """An error to send as one ``error`` frame; ``close_code`` None means the socket stays open."""

    message: str
    error_code: ErrorCode | None = None
    close_code: int | None = None
    retry_in: int | None = None
    capacity: Capacity | None = None

    @property
    def closes_connection(self) -> bool:
        return self.close_code is not None

    def to_frame(self) -> ErrorFrame:
        return ErrorFrame(
            message=self.message,
            error_code=self.error_code,
            retry_in=self.retry_in,
            capacity=self.capacity,
        )

    def to_json(self) -> str:
        return self.to_frame().to_json()


# ---------------------------------------------------------------------------------------------
# Exact message texts
# ---------------------------------------------------------------------------------------------

AUTHENTICATION_REQUIRED = (
    "Authentication required. Provide valid API key via 'api_key' query parameter "
    "or 'X-API-Key' header."
)

EMPTY_MESSAGE = "Empty message."
NOT_JSON = "Message must be valid JSON or a sentinel string."
NOT_AN_OBJECT = "Message must be a JSON object."
MISSING_TYPE = "Missing 'type' in message."
TYPE_NOT_A_STRING = "'type' must be a string."  # added
BINARY_FRAME = "Binary frames are not supported; send JSON text frames."  # added

MISSING_SESSION_ID = "start message must include 'session_id'."
SESSION_ID_NOT_A_STRING = "session_id must be a non-empty string (or an integer)."  # added

GENDER_REQUIRED = "gender is required and cannot be empty"
GENDER_INVALID = "gender must be 'female' or 'male'"
PERSONALITY_REQUIRED = "personality is required and cannot be empty"
CHAT_PROMPT_REQUIRED = "chat_prompt is required"

SAMPLING_NOT_AN_OBJECT = "sampling must be an object"
SANITIZE_OUTPUT_NOT_A_BOOLEAN = "sanitize_output must be a boolean"

PERSONALITIES_REQUIRED = (
    "personalities is required - must be an object mapping personality names to synonym arrays"
)
PERSONALITIES_NOT_AN_OBJECT = (
    "personalities must be an object mapping personality names to synonym arrays"
)
PERSONALITIES_EMPTY = "personalities cannot be empty - at least one personality is required"
PERSONALITY_NAME_INVALID = "personality names must be non-empty strings"

HISTORY_TEXT_NOT_A_STRING = "history_text must be a string"  # added
USER_UTTERANCE_NOT_A_STRING = "user_utterance must be a string"  # added
ANALYSIS_TEXT_NOT_A_STRING = "analysis_text must be a string"  # added

# Input prompt sanitiser (§11.4).
PROMPT_REQUIRED = "prompt is required"
PROMPT_NOT_A_STRING = "prompt must be a string"
PROMPT_EMPTY = "prompt is empty after sanitization"
PROMPT_TOO_LARGE = "prompt too large"

# Legacy code-less errors (§5.5-§5.8): the connection stays open.
NO_ACTIVE_SESSION = "no active session; send 'start' first"
NO_ACTIVE_SESSION_V_OLD = "no active session"  # set_persona (§18)
WARM_PERSONA_PROMPT_REQUIRED = "chat_prompt is required to warm persona"
ANALYSIS_TEXT_REQUIRED = "analysis_text is required"
FOLLOWUP_NEEDS_CHAT_PROMPT = "chat_prompt must be set in session (send in start)"


def _whole_seconds(seconds: float) -> int:
    # Windows are printed as integers (§9.1).
    return int(seconds)


def requires_chat(feature: str) -> str:
    """``<feature> requires chat model deployment`` (warm_*, followup, chat_prompt)."""
    return f"{feature} requires chat model deployment"


def personality_invalid(max_len: int) -> str:
    return f"personality must be letters-only and lower than or equal to {max_len} characters"


def chat_prompt_too_long_message(max_tokens: int) -> str:
    return f"chat_prompt exceeds token limit ({max_tokens})"


def sampling_invalid(field: str, kind: type[int | float]) -> str:
    return f"{field} must be a valid {kind.__name__}"


def sampling_out_of_range(field: str, minimum: float, maximum: float) -> str:
    # Python formatting of the bounds: floats print as 0.0 / 1.2, ints as 0 / 60.
    return f"{field} must be between {minimum} and {maximum}"


def prefix_not_a_string(field: str) -> str:
    return f"{field} must be a string"


def too_many_personalities(maximum: int) -> str:
    return f"personalities cannot exceed {maximum} entries"


def duplicate_personality(name: str) -> str:
    return f"duplicate personality name: '{name}'"


def synonyms_not_an_array(name: str) -> str:
    return f"synonyms for '{name}' must be an array"


def too_many_synonyms(name: str, maximum: int) -> str:
    return f"personality '{name}' cannot have more than {maximum} synonyms"


def synonym_invalid(name: str) -> str:
    return f"synonyms for '{name}' must be non-empty strings"


def duplicate_synonym(synonym: str) -> str:
    return f"duplicate synonym '{synonym}' - already used as personality or synonym"


def rate_limit_message(kind: RateLimitKind, limit: int, window_s: float, retry_in: int) -> str:
    return (
        f"{kind} rate limit: at most {limit} per {_whole_seconds(window_s)} seconds; "
        f"retry in {retry_in} seconds"
    )


def chat_prompt_rate_limit_message(limit: int, window_s: float, retry_in: int) -> str:
    return (
        f"chat_prompt can be updated at most {limit} times every {_whole_seconds(window_s)} "
        f"seconds; retry in {retry_in} seconds"
    )


def capacity_message(active: int, maximum: int) -> str:
    return f"Server is at capacity. Active connections: {active}/{maximum}. Please try again later."


def unknown_type_message(message_type: str) -> str:
    return f"Message type '{message_type}' is not supported."


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


# ---------------------------------------------------------------------------------------------
# Error builders
# ---------------------------------------------------------------------------------------------


def authentication_failed(close_code: int = CloseCode.UNAUTHORIZED) -> ProtocolError:
    return ProtocolError(
        AUTHENTICATION_REQUIRED, ErrorCode.AUTHENTICATION_FAILED, close_code=close_code
    )


def server_at_capacity(
    active: int, maximum: int, close_code: int = CloseCode.BUSY
) -> ProtocolError:
    return ProtocolError(
        capacity_message(active, maximum),
        ErrorCode.SERVER_AT_CAPACITY,
        close_code=close_code,
        capacity=Capacity(active=active, max=maximum),
    )


def invalid_message(message: str) -> ProtocolError:
    return ProtocolError(message, ErrorCode.INVALID_MESSAGE)


def binary_frame() -> ProtocolError:
    """Decision 3: a binary frame is an ``invalid_message``; the connection stays open."""
    return invalid_message(BINARY_FRAME)


def rate_limited(kind: RateLimitKind, limit: int, window_s: float, retry_in: int) -> ProtocolError:
    code = ErrorCode.CANCEL_RATE_LIMITED if kind == "cancel" else ErrorCode.MESSAGE_RATE_LIMITED
    return ProtocolError(
        rate_limit_message(kind, limit, window_s, retry_in), code, retry_in=retry_in
    )


def unknown_message_type(message_type: str) -> ProtocolError:
    return ProtocolError(unknown_type_message(message_type), ErrorCode.UNKNOWN_MESSAGE_TYPE)


def missing_session_id() -> ProtocolError:
    return ProtocolError(MISSING_SESSION_ID, ErrorCode.MISSING_SESSION_ID)


def invalid_session_id() -> ProtocolError:
    return ProtocolError(SESSION_ID_NOT_A_STRING, ErrorCode.INVALID_SESSION_ID)


def start_rejected(code: ErrorCode, message: str) -> ProtocolError:
    """A ``start`` validation failure: one error frame, then close with 1008 (§5.1.3)."""
    return ProtocolError(message, code, close_code=CloseCode.VALIDATION)


def chat_prompt_too_long(max_tokens: int) -> ProtocolError:
    """The ``start`` error for a system prompt over ``CHAT_PROMPT_MAX_TOKENS`` tokens."""
    return start_rejected(ErrorCode.CHAT_PROMPT_TOO_LONG, chat_prompt_too_long_message(max_tokens))


def chat_prompt_too_long_ack(max_tokens: int) -> ChatPromptAck:
    """The ``chat_prompt`` update reply (413) for a prompt over the token limit (§5.7)."""
    return ChatPromptAck.rejected(ChatPromptAck.TOO_LARGE, chat_prompt_too_long_message(max_tokens))


def chat_prompt_rate_limited_ack(limit: int, window_s: float, retry_in: int) -> ChatPromptAck:
    """The ``chat_prompt`` update reply (429) when the per-session limiter is saturated."""
    return ChatPromptAck.rejected(
        ChatPromptAck.RATE_LIMITED,
        chat_prompt_rate_limit_message(limit, window_s, retry_in),
    )


def legacy_error(message: str) -> ProtocolError:
    """A code-less ``{"type":"error","message":...}`` frame; the connection stays open."""
    return ProtocolError(message)


def internal_error(detail: str) -> ProtocolError:
    """An unexpected failure; ``detail`` must not contain user text or secrets."""
    return ProtocolError(detail or "internal error", ErrorCode.INTERNAL_ERROR)


def generation_timeout(seconds: float) -> ProtocolError:
    return ProtocolError(
        f"chat generation did not finish within {_format_seconds(seconds)} seconds",
        ErrorCode.GENERATION_TIMEOUT,
    )


def engine_unavailable(detail: str = "") -> ProtocolError:
    message = "inference engine is unavailable; please try again later"
    if detail:
        message = f"{message} ({detail})"
    return ProtocolError(message, ErrorCode.ENGINE_UNAVAILABLE)


def retry_after_seconds(seconds: float) -> int:
    """``retry_in`` as sent on the wire: whole seconds, rounded up, at least 1 (§10.1)."""
    if math.isnan(seconds):
        return 1
    return max(1, math.ceil(seconds))
