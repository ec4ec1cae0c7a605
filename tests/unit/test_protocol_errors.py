"""Error codes, close codes and the exact message texts of docs/protocol.md §9."""

from __future__ import annotations

import json

import pytest

from bridge.protocol import errors
from bridge.protocol.errors import CloseCode, ErrorCode, ProtocolError
from bridge.protocol.frames import ChatPromptAck

# Every error_code listed in docs/protocol.md §9.1 (the reference's personality_not_in_list is
# never sent: decision 3).
SPEC_CODES = {
    "authentication_failed",
    "server_at_capacity",
    "invalid_message",
    "message_rate_limited",
    "cancel_rate_limited",
    "unknown_message_type",
    "missing_session_id",
    "missing_gender",
    "invalid_gender",
    "missing_personality",
    "invalid_personality",
    "missing_chat_prompt",
    "invalid_chat_prompt",
    "chat_prompt_too_long",
    "invalid_sampling_payload",
    "invalid_temperature",
    "invalid_top_p",
    "invalid_top_k",
    "invalid_min_p",
    "invalid_repetition_penalty",
    "invalid_presence_penalty",
    "invalid_frequency_penalty",
    "temperature_out_of_range",
    "top_p_out_of_range",
    "top_k_out_of_range",
    "min_p_out_of_range",
    "repetition_penalty_out_of_range",
    "presence_penalty_out_of_range",
    "frequency_penalty_out_of_range",
    "invalid_sanitize_output",
    "invalid_check_screen_prefix",
    "invalid_screen_checked_prefix",
    "missing_personalities",
    "invalid_personalities_format",
    "empty_personalities",
    "too_many_personalities",
    "invalid_personality_name",
    "duplicate_personality",
    "invalid_personality_synonyms",
    "too_many_synonyms",
    "invalid_personality_synonym",
    "duplicate_personality_synonym",
    "internal_error",
}
ADDED_CODES = {
    "invalid_session_id",
    "invalid_history_text",
    "invalid_user_utterance",
    "invalid_analysis_text",
    "generation_timeout",
    "engine_unavailable",
}


def test_error_codes_are_the_spec_codes_plus_the_added_ones() -> None:
    assert {code.value for code in ErrorCode} == SPEC_CODES | ADDED_CODES
    assert len(list(ErrorCode)) == len(SPEC_CODES | ADDED_CODES)


def test_error_codes_serialise_as_plain_strings() -> None:
    assert json.dumps({"error_code": ErrorCode.INVALID_GENDER}) == (
        '{"error_code": "invalid_gender"}'
    )


def test_close_codes() -> None:
    assert int(CloseCode.CLIENT_REQUEST) == 1000
    assert int(CloseCode.UNAUTHORIZED) == 1008
    assert int(CloseCode.VALIDATION) == 1008
    assert int(CloseCode.BUSY) == 1013
    assert int(CloseCode.IDLE) == 4000
    assert errors.IDLE_CLOSE_REASON == "idle_timeout"


def test_authentication_failed_frame() -> None:
    error = errors.authentication_failed()
    assert error.close_code == 1008
    assert error.to_json() == (
        '{"type": "error", "error_code": "authentication_failed", "message": '
        "\"Authentication required. Provide valid API key via 'api_key' query parameter "
        "or 'X-API-Key' header.\"}"
    )
    assert errors.authentication_failed(4401).close_code == 4401


def test_server_at_capacity_frame() -> None:
    error = errors.server_at_capacity(24, 24)
    assert error.close_code == 1013
    assert json.loads(error.to_json()) == {
        "type": "error",
        "error_code": "server_at_capacity",
        "message": "Server is at capacity. Active connections: 24/24. Please try again later.",
        "capacity": {"active": 24, "max": 24, "available": 0, "at_capacity": True},
    }
    under = errors.server_at_capacity(3, 5).to_frame().to_dict()["capacity"]
    assert under == {"active": 3, "max": 5, "available": 2, "at_capacity": False}


def test_invalid_message_texts() -> None:
    assert errors.EMPTY_MESSAGE == "Empty message."
    assert errors.NOT_JSON == "Message must be valid JSON or a sentinel string."
    assert errors.NOT_AN_OBJECT == "Message must be a JSON object."
    assert errors.MISSING_TYPE == "Missing 'type' in message."
    error = errors.invalid_message(errors.EMPTY_MESSAGE)
    assert error.close_code is None
    assert error.to_json() == (
        '{"type": "error", "error_code": "invalid_message", "message": "Empty message."}'
    )


def test_binary_frame_is_invalid_message_and_keeps_the_connection() -> None:
    error = errors.binary_frame()
    assert error.error_code is ErrorCode.INVALID_MESSAGE
    assert not error.closes_connection


@pytest.mark.parametrize(
    ("kind", "code"),
    [("message", "message_rate_limited"), ("cancel", "cancel_rate_limited")],
)
def test_rate_limited(kind: errors.RateLimitKind, code: str) -> None:
    error = errors.rate_limited(kind, 25, 60.0, 7)
    assert json.loads(error.to_json()) == {
        "type": "error",
        "error_code": code,
        "message": f"{kind} rate limit: at most 25 per 60 seconds; retry in 7 seconds",
        "retry_in": 7,
    }
    assert error.close_code is None


def test_unknown_message_type() -> None:
    error = errors.unknown_message_type("dance")
    assert error.message == "Message type 'dance' is not supported."
    assert error.error_code is ErrorCode.UNKNOWN_MESSAGE_TYPE
    assert error.close_code is None


def test_session_id_errors_keep_the_connection_open() -> None:
    missing = errors.missing_session_id()
    assert missing.message == "start message must include 'session_id'."
    assert missing.close_code is None
    invalid = errors.invalid_session_id()
    assert invalid.error_code is ErrorCode.INVALID_SESSION_ID
    assert invalid.close_code is None


def test_validation_messages_are_exact() -> None:
    assert errors.GENDER_REQUIRED == "gender is required and cannot be empty"
    assert errors.GENDER_INVALID == "gender must be 'female' or 'male'"
    assert errors.PERSONALITY_REQUIRED == "personality is required and cannot be empty"
    assert errors.personality_invalid(20) == (
        "personality must be letters-only and lower than or equal to 20 characters"
    )
    assert errors.CHAT_PROMPT_REQUIRED == "chat_prompt is required"
    assert errors.chat_prompt_too_long_message(1650) == "chat_prompt exceeds token limit (1650)"
    assert errors.SAMPLING_NOT_AN_OBJECT == "sampling must be an object"
    assert errors.SANITIZE_OUTPUT_NOT_A_BOOLEAN == "sanitize_output must be a boolean"
    assert errors.prefix_not_a_string("check_screen_prefix") == (
        "check_screen_prefix must be a string"
    )


def test_sanitiser_messages_are_exact() -> None:
    assert errors.PROMPT_REQUIRED == "prompt is required"
    assert errors.PROMPT_NOT_A_STRING == "prompt must be a string"
    assert errors.PROMPT_EMPTY == "prompt is empty after sanitization"
    assert errors.PROMPT_TOO_LARGE == "prompt too large"


def test_range_messages_use_python_number_formatting() -> None:
    assert errors.sampling_out_of_range("temperature", 0.0, 1.2) == (
        "temperature must be between 0.0 and 1.2"
    )
    assert errors.sampling_out_of_range("top_k", 0, 60) == "top_k must be between 0 and 60"
    assert errors.sampling_out_of_range("min_p", 0.0, 0.2) == "min_p must be between 0.0 and 0.2"
    assert errors.sampling_invalid("top_k", int) == "top_k must be a valid int"
    assert errors.sampling_invalid("top_p", float) == "top_p must be a valid float"


def test_personalities_messages_are_exact() -> None:
    assert errors.PERSONALITIES_REQUIRED == (
        "personalities is required - must be an object mapping personality names to synonym arrays"
    )
    assert errors.PERSONALITIES_NOT_AN_OBJECT == (
        "personalities must be an object mapping personality names to synonym arrays"
    )
    assert errors.PERSONALITIES_EMPTY == (
        "personalities cannot be empty - at least one personality is required"
    )
    assert errors.too_many_personalities(50) == "personalities cannot exceed 50 entries"
    assert errors.PERSONALITY_NAME_INVALID == "personality names must be non-empty strings"
    assert errors.duplicate_personality("flirty") == "duplicate personality name: 'flirty'"
    assert errors.synonyms_not_an_array("flirty") == "synonyms for 'flirty' must be an array"
    assert errors.too_many_synonyms("flirty", 10) == (
        "personality 'flirty' cannot have more than 10 synonyms"
    )
    assert errors.synonym_invalid("flirty") == "synonyms for 'flirty' must be non-empty strings"
    assert errors.duplicate_synonym("horny") == (
        "duplicate synonym 'horny' - already used as personality or synonym"
    )


def test_start_rejections_close_with_1008() -> None:
    error = errors.start_rejected(ErrorCode.MISSING_GENDER, errors.GENDER_REQUIRED)
    assert error.close_code == 1008
    assert error.closes_connection
    too_long = errors.chat_prompt_too_long(1650)
    assert too_long.error_code is ErrorCode.CHAT_PROMPT_TOO_LONG
    assert too_long.message == "chat_prompt exceeds token limit (1650)"
    assert too_long.close_code == 1008


def test_chat_prompt_acks() -> None:
    assert json.loads(errors.chat_prompt_too_long_ack(1650).to_json()) == {
        "type": "ack",
        "for": "chat_prompt",
        "ok": False,
        "code": 413,
        "message": "chat_prompt exceeds token limit (1650)",
    }
    limited = errors.chat_prompt_rate_limited_ack(4, 60.0, 12)
    assert limited == ChatPromptAck(
        ok=False,
        code=429,
        message="chat_prompt can be updated at most 4 times every 60 seconds; retry in 12 seconds",
    )


def test_legacy_errors_have_no_error_code() -> None:
    error = errors.legacy_error(errors.NO_ACTIVE_SESSION)
    assert error.to_json() == (
        '{"type": "error", "message": "no active session; send \'start\' first"}'
    )
    assert error.close_code is None
    assert errors.requires_chat("warm_persona") == "warm_persona requires chat model deployment"
    assert errors.WARM_PERSONA_PROMPT_REQUIRED == "chat_prompt is required to warm persona"
    assert errors.ANALYSIS_TEXT_REQUIRED == "analysis_text is required"
    assert errors.FOLLOWUP_NEEDS_CHAT_PROMPT == (
        "chat_prompt must be set in session (send in start)"
    )


def test_turn_failures_carry_an_error_code() -> None:
    assert errors.internal_error("boom") == ProtocolError("boom", ErrorCode.INTERNAL_ERROR)
    assert errors.internal_error("").message == "internal error"
    timeout = errors.generation_timeout(60.0)
    assert timeout.error_code is ErrorCode.GENERATION_TIMEOUT
    assert timeout.message == "chat generation did not finish within 60 seconds"
    assert errors.generation_timeout(0.5).message.endswith("within 0.5 seconds")
    unavailable = errors.engine_unavailable("connection refused")
    assert unavailable.error_code is ErrorCode.ENGINE_UNAVAILABLE
    assert unavailable.message.endswith("(connection refused)")
    for error in (timeout, unavailable):
        assert error.close_code is None


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0.0, 1), (0.2, 1), (1.0, 1), (1.01, 2), (59.5, 60), (-3.0, 1), (float("nan"), 1)],
)
def test_retry_after_is_whole_seconds_at_least_one(seconds: float, expected: int) -> None:
    assert errors.retry_after_seconds(seconds) == expected
