"""Validation of start, chat_prompt, followup, warm_*, set_persona, and the prompt sanitiser."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.protocol.config import BridgeConfig
from bridge.protocol.errors import ErrorCode, ProtocolError
from bridge.protocol.frames import ChatPromptAck
from bridge.protocol.messages import (
    ChatPromptUpdate,
    Followup,
    SetPersona,
    Start,
    WarmHistory,
    WarmPersona,
)
from bridge.protocol.personalities import PersonalityTable
from bridge.protocol.sampling import SamplingOverrides
from bridge.protocol.validation import (
    ChatPromptChange,
    FollowupRequest,
    InvalidPrompt,
    SetPersonaChange,
    StartRequest,
    WarmHistoryRequest,
    WarmPersonaRequest,
    followup_utterance,
    normalize_gender,
    read_session_id,
    sanitize_prompt,
    validate_chat_prompt_update,
    validate_followup,
    validate_set_persona,
    validate_start,
    validate_warm_history,
    validate_warm_persona,
)


def make_config(**env: str) -> BridgeConfig:
    return BridgeConfig.from_env({"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "4", **env})


BOTH = make_config()
CHAT = make_config(DEPLOY_MODELS="chat")
TOOL = make_config(DEPLOY_MODELS="tool")

VALID_START: dict[str, Any] = {
    "type": "start",
    "session_id": "s1",
    "gender": "female",
    "personality": "flirty",
    "chat_prompt": "You are Anna.",
    "personalities": {"flirty": ["horny"], "delulu": []},
    "user_utterance": "hi there",
}


def start(config: BridgeConfig = BOTH, **changes: Any) -> StartRequest | ProtocolError:
    return start_with(changes, config)


def start_with(
    changes: dict[str, Any], config: BridgeConfig = BOTH
) -> StartRequest | ProtocolError:
    fields = {**VALID_START, **changes}
    fields = {key: value for key, value in fields.items() if value is not REMOVE}
    return validate_start(Start(MappingProxyType(fields), request_id=None), config)


REMOVE: Any = object()


def accepted(config: BridgeConfig = BOTH, **changes: Any) -> StartRequest:
    result = start(config, **changes)
    assert isinstance(result, StartRequest), result
    return result


def rejected(config: BridgeConfig = BOTH, **changes: Any) -> tuple[ErrorCode | None, str]:
    result = start(config, **changes)
    assert isinstance(result, ProtocolError), result
    assert result.close_code == 1008
    return result.error_code, result.message


# --------------------------------------------------------------------------------------------
# the prompt sanitiser
# --------------------------------------------------------------------------------------------


def test_sanitize_prompt_rejections() -> None:
    with pytest.raises(InvalidPrompt, match=r"^prompt is required$"):
        sanitize_prompt(None, 100)
    for not_text in (5, ["a"], {"a": 1}, True):
        with pytest.raises(InvalidPrompt, match=r"^prompt must be a string$"):
            sanitize_prompt(not_text, 100)
    for blank in ("", "   ", "\x00\x01\u202e\n"):
        with pytest.raises(InvalidPrompt, match=r"^prompt is empty after sanitization$"):
            sanitize_prompt(blank, 100)
    with pytest.raises(InvalidPrompt, match=r"^prompt too large$"):
        sanitize_prompt("x" * 11, 10)
    assert sanitize_prompt("  " + "x" * 10 + "  ", 10) == "x" * 10


def test_sanitize_prompt_cleans() -> None:
    assert sanitize_prompt("a\x00b\x07c\x7fd", 100) == "abcd"
    # Tab and LF survive (ftfy, when installed, also turns CRLF into LF).
    assert sanitize_prompt("keep\ttab\nline\nend", 100) == "keep\ttab\nline\nend"
    assert sanitize_prompt("left\u202eright\u2066x\u200e\u200f\u061c", 100) == "leftrightx"
    assert sanitize_prompt("\ufb01ne \uff21", 100) == "fine A"  # NFKC
    assert sanitize_prompt("  padded  ", 100) == "padded"


def test_sanitize_prompt_repairs_mojibake_when_ftfy_is_installed() -> None:
    pytest.importorskip("ftfy")
    assert sanitize_prompt("schÃ¶n", 100) == "schön"


@given(st.text())
def test_sanitize_prompt_output_is_clean_or_rejected(text: str) -> None:
    try:
        result = sanitize_prompt(text, 50)
    except InvalidPrompt as exc:
        assert str(exc) in {"prompt is empty after sanitization", "prompt too large"}
        return
    assert result == result.strip()
    assert 0 < len(result) <= 50
    assert not any(ch in result for ch in "\x00\x0b\x0c\x7f\u202e\u2066\u200e\u061c")


# --------------------------------------------------------------------------------------------
# start
# --------------------------------------------------------------------------------------------


def test_valid_start() -> None:
    request = accepted(
        gender=" Female ",
        personality="Flirty",
        chat_prompt="  You are Anna.  ",
        check_screen_prefix="LOOK:",
        history_text="User: a\nAssistant: b",
        sampling={"temperature": 0.5},
    )
    assert request == StartRequest(
        session_id="s1",
        gender="female",
        personality="flirty",
        chat_prompt="You are Anna.",
        sampling=SamplingOverrides(temperature=0.5),
        check_screen_prefix="LOOK:",
        screen_checked_prefix=None,
        personalities=PersonalityTable((("flirty", ("horny",)), ("delulu", ()))),
        history_text="User: a\nAssistant: b",
        user_utterance="hi there",
    )
    assert request.sanitize_output is True


def test_request_id_is_carried() -> None:
    fields = MappingProxyType(dict(VALID_START))
    result = validate_start(Start(fields, request_id="r9"), BOTH)
    assert isinstance(result, StartRequest)
    assert result.request_id == "r9"


@pytest.mark.parametrize("value", [REMOVE, None, "", 0, False, [], {}])
def test_missing_session_id_keeps_the_connection(value: Any) -> None:
    result = start(session_id=value)
    assert isinstance(result, ProtocolError)
    assert result.error_code is ErrorCode.MISSING_SESSION_ID
    assert result.message == "start message must include 'session_id'."
    assert result.close_code is None


@pytest.mark.parametrize("value", [{"id": 1}, ["s"], 1.5, True])
def test_invalid_session_id_keeps_the_connection(value: Any) -> None:
    result = start(session_id=value)
    assert isinstance(result, ProtocolError)
    assert result.error_code is ErrorCode.INVALID_SESSION_ID
    assert result.close_code is None


def test_session_id_forms() -> None:
    assert accepted(session_id=42).session_id == "42"
    assert accepted(session_id=" s ").session_id == " s "
    assert read_session_id({"session_id": "abc"}) == "abc"


def test_session_id_is_checked_before_everything_else() -> None:
    result = start(session_id=None, gender="robot")
    assert isinstance(result, ProtocolError)
    assert result.error_code is ErrorCode.MISSING_SESSION_ID


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("female", "female"),
        ("MALE", "male"),
        ("  female\n", "female"),
        ("woman", "female"),
        ("W", "female"),
        ("f", "female"),
        ("Man", "male"),
        ("m", "male"),
    ],
)
def test_gender_spellings(value: str, expected: str) -> None:
    assert accepted(gender=value).gender == expected
    assert normalize_gender(value) == expected


def test_assistant_gender_alias() -> None:
    assert accepted(gender=REMOVE, assistant_gender="man").gender == "male"
    assert accepted(gender=None, assistant_gender="woman").gender == "female"
    assert accepted(gender="", assistant_gender="woman").gender == "female"
    assert accepted(gender="male", assistant_gender="woman").gender == "male"


@pytest.mark.parametrize("value", [REMOVE, None, "", "   "])
def test_missing_gender(value: Any) -> None:
    assert rejected(gender=value) == (
        ErrorCode.MISSING_GENDER,
        "gender is required and cannot be empty",
    )


@pytest.mark.parametrize("value", ["other", "females", 1, 0, True, False, ["female"], {"g": 1}])
def test_invalid_gender_including_wrong_types(value: Any) -> None:
    assert rejected(gender=value) == (ErrorCode.INVALID_GENDER, "gender must be 'female' or 'male'")


def test_personality() -> None:
    assert accepted(personality=" Delulu ").personality == "delulu"
    assert accepted(personality="a" * 20).personality == "a" * 20
    assert accepted(personality=REMOVE, persona_style="Savage").personality == "savage"


def test_personality_not_in_personalities_is_accepted() -> None:
    assert accepted(personality="anna").personality == "anna"


@pytest.mark.parametrize("value", [REMOVE, None, "", " \t"])
def test_missing_personality(value: Any) -> None:
    assert rejected(personality=value) == (
        ErrorCode.MISSING_PERSONALITY,
        "personality is required and cannot be empty",
    )


@pytest.mark.parametrize("value", ["a" * 21, "flirty1", "no cap", "flírty", 7, True, ["x"], {}])
def test_invalid_personality_including_wrong_types(value: Any) -> None:
    assert rejected(personality=value) == (
        ErrorCode.INVALID_PERSONALITY,
        "personality must be letters-only and lower than or equal to 20 characters",
    )


def test_personality_length_comes_from_the_environment() -> None:
    config = make_config(PERSONALITY_MAX_LEN="5")
    assert rejected(config, personality="flirty")[1] == (
        "personality must be letters-only and lower than or equal to 5 characters"
    )


def test_chat_prompt() -> None:
    assert accepted(chat_prompt=REMOVE, persona_text="You are Mark.").chat_prompt == (
        "You are Mark."
    )
    assert accepted(chat_prompt="", persona_text="P").chat_prompt == "P"
    assert rejected(chat_prompt=REMOVE) == (
        ErrorCode.MISSING_CHAT_PROMPT,
        "chat_prompt is required",
    )
    assert rejected(chat_prompt=None)[0] is ErrorCode.MISSING_CHAT_PROMPT
    assert rejected(chat_prompt="  \x00 ") == (
        ErrorCode.INVALID_CHAT_PROMPT,
        "prompt is empty after sanitization",
    )
    assert rejected(chat_prompt=5) == (ErrorCode.INVALID_CHAT_PROMPT, "prompt must be a string")
    assert rejected(chat_prompt=False)[0] is ErrorCode.INVALID_CHAT_PROMPT
    small = make_config(PROMPT_SANITIZE_MAX_CHARS="5")
    assert rejected(small, chat_prompt="toolong") == (
        ErrorCode.INVALID_CHAT_PROMPT,
        "prompt too large",
    )


def test_tool_only_mode_ignores_prompt_and_sampling() -> None:
    request = accepted(TOOL, chat_prompt=REMOVE, sampling="garbage", temperature=99)
    assert request.chat_prompt is None
    assert request.sampling is None
    assert accepted(TOOL, chat_prompt=5).chat_prompt is None


def test_sampling_overrides() -> None:
    assert accepted().sampling is None
    request = accepted(sampling={"sanitize_output": False})
    assert request.sampling == SamplingOverrides(sanitize_output=False)
    assert request.sanitize_output is False
    assert rejected(top_k=61) == (ErrorCode.TOP_K_OUT_OF_RANGE, "top_k must be between 0 and 60")


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("check_screen_prefix", ErrorCode.INVALID_CHECK_SCREEN_PREFIX),
        ("screen_checked_prefix", ErrorCode.INVALID_SCREEN_CHECKED_PREFIX),
    ],
)
def test_prefixes(field: str, code: ErrorCode) -> None:
    def accepted_value(value: Any) -> Any:
        result = start_with({field: value})
        assert isinstance(result, StartRequest), result
        return getattr(result, field)

    def rejected_value(value: Any) -> tuple[ErrorCode | None, str]:
        result = start_with({field: value})
        assert isinstance(result, ProtocolError), result
        assert result.close_code == 1008
        return result.error_code, result.message

    assert accepted_value(None) is None
    assert accepted_value("   ") is None
    assert accepted_value(" SEE:\x00 ") == "SEE:"
    assert accepted_value("x" * 30) == "x" * 30
    assert rejected_value(5) == (code, f"{field} must be a string")
    assert rejected_value(["a"]) == (code, f"{field} must be a string")
    assert rejected_value("x" * 31) == (code, "prompt too large")
    assert rejected_value("\x00\x01") == (code, "prompt is empty after sanitization")


def test_personalities_by_deploy_mode() -> None:
    missing = (
        ErrorCode.MISSING_PERSONALITIES,
        "personalities is required - must be an object mapping personality names to synonym arrays",
    )
    assert rejected(BOTH, personalities=REMOVE) == missing
    assert rejected(TOOL, personalities=None) == missing
    assert accepted(CHAT, personalities=REMOVE).personalities is None
    assert rejected(CHAT, personalities={})[0] is ErrorCode.EMPTY_PERSONALITIES


def test_history_text_and_utterance() -> None:
    assert accepted(history_text=REMOVE).history_text is None
    assert accepted(history_text=None).history_text == ""
    assert accepted(history_text="").history_text == ""
    assert rejected(history_text=3) == (
        ErrorCode.INVALID_HISTORY_TEXT,
        "history_text must be a string",
    )
    assert accepted(user_utterance=REMOVE).user_utterance == ""
    assert accepted(user_utterance=None).user_utterance == ""
    assert rejected(user_utterance={"t": 1}) == (
        ErrorCode.INVALID_USER_UTTERANCE,
        "user_utterance must be a string",
    )


def test_validation_order_of_5_1_3() -> None:
    everything_bad: dict[str, Any] = {
        "gender": "robot",
        "personality": "1",
        "chat_prompt": 5,
        "sampling": {"temperature": 9, "sanitize_output": "x"},
        "check_screen_prefix": 1,
        "screen_checked_prefix": 1,
        "personalities": [],
        "history_text": 1,
        "user_utterance": 1,
    }
    expected_order = [
        ("gender", ErrorCode.INVALID_GENDER),
        ("personality", ErrorCode.INVALID_PERSONALITY),
        ("chat_prompt", ErrorCode.INVALID_CHAT_PROMPT),
        ("sampling", ErrorCode.TEMPERATURE_OUT_OF_RANGE),
        ("check_screen_prefix", ErrorCode.INVALID_CHECK_SCREEN_PREFIX),
        ("screen_checked_prefix", ErrorCode.INVALID_SCREEN_CHECKED_PREFIX),
        ("personalities", ErrorCode.INVALID_PERSONALITIES_FORMAT),
        ("history_text", ErrorCode.INVALID_HISTORY_TEXT),
        ("user_utterance", ErrorCode.INVALID_USER_UTTERANCE),
    ]
    bad = dict(everything_bad)
    for field, code in expected_order:
        assert rejected(**bad)[0] is code, field
        bad[field] = VALID_START.get(field, REMOVE)
    assert isinstance(start(**bad), StartRequest)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
start_keys = st.sampled_from(
    [
        "session_id",
        "gender",
        "assistant_gender",
        "personality",
        "persona_style",
        "chat_prompt",
        "persona_text",
        "sampling",
        "sampling_params",
        "temperature",
        "top_k",
        "sanitize_output",
        "check_screen_prefix",
        "screen_checked_prefix",
        "personalities",
        "history_text",
        "user_utterance",
    ]
)


@given(st.dictionaries(start_keys, json_values), st.sampled_from([BOTH, CHAT, TOOL]))
def test_any_start_gives_a_request_or_a_validation_error(
    changes: dict[str, Any], config: BridgeConfig
) -> None:
    result = start(config, **changes)
    assert isinstance(result, StartRequest | ProtocolError)
    if isinstance(result, ProtocolError):
        assert result.error_code is not None
        assert result.error_code is not ErrorCode.INTERNAL_ERROR
        session_error = result.error_code in {
            ErrorCode.MISSING_SESSION_ID,
            ErrorCode.INVALID_SESSION_ID,
        }
        assert (result.close_code is None) == session_error


# --------------------------------------------------------------------------------------------
# chat_prompt update
# --------------------------------------------------------------------------------------------


def update(
    config: BridgeConfig = BOTH,
    *,
    has_session: bool = True,
    stored: tuple[str | None, str | None] = ("female", "flirty"),
    **fields: Any,
) -> ChatPromptChange | ChatPromptAck | ProtocolError:
    message = ChatPromptUpdate(MappingProxyType({"type": "chat_prompt", **fields}))
    return validate_chat_prompt_update(
        message,
        config,
        has_session=has_session,
        stored_gender=stored[0],
        stored_personality=stored[1],
    )


def test_chat_prompt_update_steps_in_order() -> None:
    assert update(TOOL, gender="x") == ChatPromptAck(
        ok=False, code=400, message="chat_prompt requires chat model deployment"
    )
    no_session = update(has_session=False, gender="x")
    assert isinstance(no_session, ProtocolError)
    assert no_session.error_code is None
    assert no_session.message == "no active session; send 'start' first"
    assert update(gender="x", personality="1") == ChatPromptAck(
        ok=False, code=400, message="gender must be 'female' or 'male'"
    )
    assert update(gender="male") == ChatPromptAck(
        ok=False, code=400, message="personality is required and cannot be empty"
    )
    assert update(gender="female", personality="Flirty", chat_prompt="new!") == ChatPromptAck(
        ok=True, code=204, message="no change"
    )
    assert update(gender="male", personality="mark") == ChatPromptAck(
        ok=False, code=400, message="chat_prompt is required"
    )
    assert update(gender="male", personality="mark", chat_prompt=" ") == ChatPromptAck(
        ok=False, code=400, message="prompt is empty after sanitization"
    )
    assert update(gender="male", personality="mark", chat_prompt=1) == ChatPromptAck(
        ok=False, code=400, message="prompt must be a string"
    )
    assert update(gender="male", personality="mark", chat_prompt=" You are Mark. ") == (
        ChatPromptChange(gender="male", personality="mark", chat_prompt="You are Mark.")
    )


def test_chat_prompt_update_aliases_and_new_sessions() -> None:
    change = update(
        stored=(None, None), assistant_gender="man", persona_style="Mark", persona_text="P"
    )
    assert change == ChatPromptChange(gender="male", personality="mark", chat_prompt="P")


# --------------------------------------------------------------------------------------------
# followup, warm_*, set_persona
# --------------------------------------------------------------------------------------------


def followup(
    config: BridgeConfig = BOTH,
    *,
    has_session: bool = True,
    has_prompt: bool = True,
    **fields: Any,
) -> FollowupRequest | ProtocolError:
    message = Followup(MappingProxyType({"type": "followup", **fields}))
    return validate_followup(
        message, config, has_session=has_session, session_has_chat_prompt=has_prompt
    )


def legacy(result: object) -> str:
    assert isinstance(result, ProtocolError), result
    assert result.error_code is None
    assert result.close_code is None
    return result.message


def test_followup() -> None:
    assert legacy(followup(TOOL)) == "followup requires chat model deployment"
    assert legacy(followup(has_session=False, analysis_text="x")) == (
        "no active session; send 'start' first"
    )
    for blank in (None, "", "   "):
        assert legacy(followup(analysis_text=blank)) == "analysis_text is required"
    assert legacy(followup()) == "analysis_text is required"
    assert legacy(followup(has_prompt=False, analysis_text="x")) == (
        "chat_prompt must be set in session (send in start)"
    )
    wrong = followup(analysis_text={"text": "x"})
    assert isinstance(wrong, ProtocolError)
    assert wrong.error_code is ErrorCode.INVALID_ANALYSIS_TEXT
    assert wrong.message == "analysis_text must be a string"
    assert wrong.close_code is None
    assert followup(analysis_text="  a red car  ") == FollowupRequest("a red car")


def test_followup_utterance() -> None:
    assert followup_utterance("ON THE SCREEN NOW:", "a red car") == ("ON THE SCREEN NOW: a red car")
    assert followup_utterance("", "a red car") == "a red car"


def test_warm_persona() -> None:
    def warm(config: BridgeConfig = BOTH, **fields: Any) -> WarmPersonaRequest | ProtocolError:
        return validate_warm_persona(WarmPersona(MappingProxyType(fields)), config)

    assert legacy(warm(TOOL, chat_prompt="P")) == "warm_persona requires chat model deployment"
    assert legacy(warm()) == "chat_prompt is required to warm persona"
    assert legacy(warm(chat_prompt="")) == "chat_prompt is required to warm persona"
    assert legacy(warm(chat_prompt="\x00")) == "prompt is empty after sanitization"
    assert legacy(warm(chat_prompt=3)) == "prompt must be a string"
    request = warm(chat_prompt=" Prompt ")
    assert request == WarmPersonaRequest("Prompt")
    assert isinstance(request, WarmPersonaRequest)
    assert request.bytes == 6
    assert warm(persona_text="Old") == WarmPersonaRequest("Old")


def test_warm_history() -> None:
    def warm(config: BridgeConfig = BOTH, **fields: Any) -> WarmHistoryRequest | ProtocolError:
        return validate_warm_history(WarmHistory(MappingProxyType(fields)), config)

    assert legacy(warm(TOOL)) == "warm_history requires chat model deployment"
    assert warm() == WarmHistoryRequest("")
    assert warm(history_text=None) == WarmHistoryRequest("")
    assert warm(history_text="User: hi") == WarmHistoryRequest("User: hi")
    wrong = warm(history_text=["User: hi"])
    assert isinstance(wrong, ProtocolError)
    assert wrong.error_code is ErrorCode.INVALID_HISTORY_TEXT


def test_set_persona() -> None:
    def set_persona(has_session: bool = True, **fields: Any) -> SetPersonaChange | ProtocolError:
        message = SetPersona(MappingProxyType({"type": "set_persona", **fields}))
        return validate_set_persona(message, BOTH, has_session=has_session)

    assert legacy(set_persona(False, assistant_gender="woman")) == "no active session"
    assert set_persona(assistant_gender="woman", persona_style="Savage") == SetPersonaChange(
        gender="female", personality="savage", replaces_chat_prompt=False, chat_prompt=None
    )
    assert set_persona(persona_text=" New ") == SetPersonaChange(
        gender=None, personality=None, replaces_chat_prompt=True, chat_prompt="New"
    )
    assert set_persona(persona_text=None) == SetPersonaChange(
        gender=None, personality=None, replaces_chat_prompt=True, chat_prompt=None
    )
    bad = set_persona(assistant_gender="robot")
    assert isinstance(bad, ProtocolError)
    assert (bad.error_code, bad.close_code) == (ErrorCode.INVALID_GENDER, None)
    bad_prompt = set_persona(persona_text=7)
    assert isinstance(bad_prompt, ProtocolError)
    assert bad_prompt.message == "prompt must be a string"
