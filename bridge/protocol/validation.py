"""Field validation of inbound messages and the input prompt sanitiser (docs/protocol.md §5, §11.4).

Each ``validate_*`` function takes a parsed message (``messages``) plus the facts it needs
about the session, and returns either a typed request for the session state machine or the
exact reply to send (a ``ProtocolError`` or a ``ChatPromptAck``). Nothing here counts tokens:
where a token limit applies the caller counts (inside Triton) and uses the error builders of
``errors``.

Project decisions applied here (they go beyond the reference):

* v-old spellings are accepted (§18.1): ``assistant_gender`` for ``gender`` (values
  ``woman``/``w``/``f`` -> female, ``man``/``m`` -> male), ``persona_style`` for
  ``personality``, ``persona_text`` for ``chat_prompt``. An alias is used when the v-new field
  is absent, null or the empty string.
* Wrong types are validation errors, never ``internal_error``: a non-string ``gender`` is
  ``invalid_gender``, a non-string ``personality`` is ``invalid_personality``, a non-string
  ``chat_prompt`` is ``invalid_chat_prompt`` ("prompt must be a string"); ``null`` counts as
  absent everywhere. ``history_text`` / ``user_utterance`` / ``analysis_text`` that are not
  strings get their own codes (``invalid_history_text``, ``invalid_user_utterance``,
  ``invalid_analysis_text``).
* ``session_id``: missing or falsy -> ``missing_session_id``; a string is used as it is; an
  integer becomes its decimal string; anything else (object, array, float, true) ->
  ``invalid_session_id``. Both leave the connection open.
* A ``personality`` that is not among ``personalities`` is accepted (decision 3).
* The ``start`` checks run in the order of §5.1.3; the extra type checks of ``history_text``
  and ``user_utterance`` come last. The chat_prompt token limit needs a tokenizer, so the
  caller checks it after ``validate_start`` succeeded (``errors.chat_prompt_too_long``): when a
  start has several problems, a too-long prompt is reported after the others.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bridge.protocol import errors
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
from bridge.protocol.personalities import PersonalityTable, validate_personalities
from bridge.protocol.sampling import SamplingOverrides, parse_sampling_overrides

# ---------------------------------------------------------------------------------------------
# Input prompt sanitiser (§11.4)
# ---------------------------------------------------------------------------------------------


class InvalidPrompt(ValueError):
    """The sanitiser rejected a prompt; ``str(exc)`` is the wire message (§9.1)."""


def _load_mojibake_fixer() -> Callable[[str], str]:
    try:
        from ftfy import fix_text
    except ImportError:  # ftfy is optional: without it mojibake is left as it is
        return lambda text: text
    return fix_text


_fix_mojibake: Final = _load_mojibake_fixer()
_CONTROL_CHARS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BIDI_CONTROLS: Final = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")


def sanitize_prompt(raw: object, max_chars: int) -> str:
    """Repair, normalise and bound a client-supplied prompt; raise ``InvalidPrompt``.

    Steps: reject None / non-strings; ftfy (when installed); NFKC; drop control characters
    except tab, LF and CR; drop bidi controls; strip; reject empty; reject over ``max_chars``.
    """
    if raw is None:
        raise InvalidPrompt(errors.PROMPT_REQUIRED)
    if not isinstance(raw, str):
        raise InvalidPrompt(errors.PROMPT_NOT_A_STRING)
    text = unicodedata.normalize("NFKC", _fix_mojibake(raw))
    text = _BIDI_CONTROLS.sub("", _CONTROL_CHARS.sub("", text)).strip()
    if not text:
        raise InvalidPrompt(errors.PROMPT_EMPTY)
    if len(text) > max_chars:
        raise InvalidPrompt(errors.PROMPT_TOO_LARGE)
    return text


# ---------------------------------------------------------------------------------------------
# Single fields
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldError:
    """A field-level failure; the caller decides how it goes on the wire."""

    code: ErrorCode
    message: str


_GENDERS: Final[Mapping[str, str]] = {
    "female": "female",
    "male": "male",
    # v-old spellings (§18.1)
    "woman": "female",
    "w": "female",
    "f": "female",
    "man": "male",
    "m": "male",
}
_LETTERS_ONLY: Final = re.compile("[A-Za-z]+")


def first_given(fields: Mapping[str, Any], *keys: str) -> Any:
    """The value of the first key that is present, not null and not ``""``."""
    for key in keys:
        value = fields.get(key)
        if value is not None and value != "":
            return value
    return None


def normalize_gender(value: object) -> str | FieldError:
    """``female`` / ``male`` from a gender value (case-insensitive, v-old aliases accepted)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return FieldError(ErrorCode.MISSING_GENDER, errors.GENDER_REQUIRED)
    if isinstance(value, str):
        gender = _GENDERS.get(value.strip().lower())
        if gender is not None:
            return gender
    return FieldError(ErrorCode.INVALID_GENDER, errors.GENDER_INVALID)


def normalize_personality(value: object, max_len: int) -> str | FieldError:
    """A letters-only personality of at most ``max_len`` characters, lower-cased."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return FieldError(ErrorCode.MISSING_PERSONALITY, errors.PERSONALITY_REQUIRED)
    if isinstance(value, str):
        text = value.strip()
        if len(text) <= max_len and _LETTERS_ONLY.fullmatch(text):
            return text.lower()
    return FieldError(ErrorCode.INVALID_PERSONALITY, errors.personality_invalid(max_len))


def read_session_id(fields: Mapping[str, Any]) -> str | ProtocolError:
    """The session id of a ``start``; errors here leave the connection open (§5.1)."""
    value = fields.get("session_id")
    if not value:
        return errors.missing_session_id()
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return errors.invalid_session_id()


def _optional_prefix(value: object, field: str, code: ErrorCode, max_chars: int) -> str | None:
    # Returns None for "no change"; raises _Rejected for a bad value.
    if value is None:
        return None
    if not isinstance(value, str):
        raise _reject(code, errors.prefix_not_a_string(field))
    if not value.strip():
        return None
    try:
        return sanitize_prompt(value, max_chars)
    except InvalidPrompt as exc:
        raise _reject(code, str(exc)) from None


def _optional_text(value: object, code: ErrorCode, message: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _reject(code, message)


class _Rejected(Exception):
    """Internal short-cut out of ``validate_start``; never escapes this module."""

    def __init__(self, error: ProtocolError) -> None:
        super().__init__(error.message)
        self.error = error


def _reject(code: ErrorCode, message: str) -> _Rejected:
    return _Rejected(errors.start_rejected(code, message))


def _unwrap(result: str | FieldError) -> str:
    if isinstance(result, FieldError):
        raise _reject(result.code, result.message)
    return result


# ---------------------------------------------------------------------------------------------
# start (§5.1)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StartRequest:
    """A validated ``start``.

    ``chat_prompt`` is the sanitised system prompt (None in tool-only mode); its token count
    is still to be checked by the caller. ``sampling`` None means "no overrides" (the stored
    overrides are reset). The prefixes and ``personalities`` are None when not supplied ("keep
    the stored value"). ``history_text`` is None when the key was absent (keep the stored
    history) and ``""`` when it was null or empty (clear it).
    """

    session_id: str
    gender: str
    personality: str
    chat_prompt: str | None
    sampling: SamplingOverrides | None
    check_screen_prefix: str | None
    screen_checked_prefix: str | None
    personalities: PersonalityTable | None
    history_text: str | None
    user_utterance: str
    request_id: str | None = None

    @property
    def sanitize_output(self) -> bool:
        return self.sampling is None or self.sampling.sanitizes_output


def validate_start(message: Start, config: BridgeConfig) -> StartRequest | ProtocolError:
    """Validate a ``start`` in the order of §5.1.3.

    ``missing_session_id`` / ``invalid_session_id`` keep the socket open; every other error
    closes it with 1008. Call ``read_session_id`` first when the session id is needed before
    validation (barge-in runs before validation, §5.1.3).
    """
    fields = message.fields
    session_id = read_session_id(fields)
    if isinstance(session_id, ProtocolError):
        return session_id
    try:
        return _validate_start_fields(message, session_id, config)
    except _Rejected as rejected:
        return rejected.error


def _validate_start_fields(message: Start, session_id: str, config: BridgeConfig) -> StartRequest:
    fields = message.fields
    gender = _unwrap(normalize_gender(first_given(fields, "gender", "assistant_gender")))
    personality = _unwrap(
        normalize_personality(
            first_given(fields, "personality", "persona_style"),
            config.personality_max_len,
        )
    )

    chat_prompt: str | None = None
    sampling: SamplingOverrides | None = None
    if config.deploy_chat:
        raw_prompt = first_given(fields, "chat_prompt", "persona_text")
        if raw_prompt is None:
            raise _reject(ErrorCode.MISSING_CHAT_PROMPT, errors.CHAT_PROMPT_REQUIRED)
        try:
            chat_prompt = sanitize_prompt(raw_prompt, config.prompt_sanitize_max_chars)
        except InvalidPrompt as exc:
            raise _reject(ErrorCode.INVALID_CHAT_PROMPT, str(exc)) from None
        parsed = parse_sampling_overrides(fields, config)
        if isinstance(parsed, ProtocolError):
            raise _Rejected(parsed)
        sampling = parsed

    check_prefix = _optional_prefix(
        fields.get("check_screen_prefix"),
        "check_screen_prefix",
        ErrorCode.INVALID_CHECK_SCREEN_PREFIX,
        config.screen_prefix_max_chars,
    )
    checked_prefix = _optional_prefix(
        fields.get("screen_checked_prefix"),
        "screen_checked_prefix",
        ErrorCode.INVALID_SCREEN_CHECKED_PREFIX,
        config.screen_prefix_max_chars,
    )

    personalities: PersonalityTable | None = None
    raw_personalities = fields.get("personalities")
    if raw_personalities is None:
        if config.deploy_tool:
            raise _reject(ErrorCode.MISSING_PERSONALITIES, errors.PERSONALITIES_REQUIRED)
    else:
        table = validate_personalities(
            raw_personalities,
            max_personalities=config.max_personalities,
            max_synonyms=config.max_synonyms_per_personality,
        )
        if isinstance(table, ProtocolError):
            raise _Rejected(table)
        personalities = table
    # personality-in-list is deliberately not checked (decision 3).

    history_text: str | None = None
    if "history_text" in fields:
        history_text = (
            _optional_text(
                fields["history_text"],
                ErrorCode.INVALID_HISTORY_TEXT,
                errors.HISTORY_TEXT_NOT_A_STRING,
            )
            or ""
        )
    utterance = (
        _optional_text(
            fields.get("user_utterance"),
            ErrorCode.INVALID_USER_UTTERANCE,
            errors.USER_UTTERANCE_NOT_A_STRING,
        )
        or ""
    )
    return StartRequest(
        session_id=session_id,
        gender=gender,
        personality=personality,
        chat_prompt=chat_prompt,
        sampling=sampling,
        check_screen_prefix=check_prefix,
        screen_checked_prefix=checked_prefix,
        personalities=personalities,
        history_text=history_text,
        user_utterance=utterance,
        request_id=message.request_id,
    )


# ---------------------------------------------------------------------------------------------
# chat_prompt update (§5.7) and v-old set_persona (§18.1)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChatPromptChange:
    """A ``chat_prompt`` update that passed steps 1-5 of §5.7.

    Still to do by the caller, in order: the token limit (``errors.chat_prompt_too_long_ack``),
    the per-session limiter (``errors.chat_prompt_rate_limited_ack``), then apply, re-trim the
    history, warm, and answer ``ChatPromptAck.updated(gender, personality)``.
    """

    gender: str
    personality: str
    chat_prompt: str


def validate_chat_prompt_update(
    message: ChatPromptUpdate,
    config: BridgeConfig,
    *,
    has_session: bool,
    stored_gender: str | None,
    stored_personality: str | None,
) -> ChatPromptChange | ChatPromptAck | ProtocolError:
    """Steps 1-5 of §5.7; the reply to send, or the change to apply."""
    if not config.deploy_chat:
        return ChatPromptAck.rejected(
            ChatPromptAck.BAD_REQUEST, errors.requires_chat("chat_prompt")
        )
    if not has_session:
        return errors.legacy_error(errors.NO_ACTIVE_SESSION)
    fields = message.fields
    gender = normalize_gender(first_given(fields, "gender", "assistant_gender"))
    if isinstance(gender, FieldError):
        return ChatPromptAck.rejected(ChatPromptAck.BAD_REQUEST, gender.message)
    personality = normalize_personality(
        first_given(fields, "personality", "persona_style"), config.personality_max_len
    )
    if isinstance(personality, FieldError):
        return ChatPromptAck.rejected(ChatPromptAck.BAD_REQUEST, personality.message)
    if gender == stored_gender and personality == stored_personality:
        # The prompt is ignored even when it differs (§5.7).
        return ChatPromptAck.no_change()
    raw_prompt = first_given(fields, "chat_prompt", "persona_text")
    if raw_prompt is None:
        return ChatPromptAck.rejected(ChatPromptAck.BAD_REQUEST, errors.CHAT_PROMPT_REQUIRED)
    try:
        prompt = sanitize_prompt(raw_prompt, config.prompt_sanitize_max_chars)
    except InvalidPrompt as exc:
        return ChatPromptAck.rejected(ChatPromptAck.BAD_REQUEST, str(exc))
    return ChatPromptChange(gender=gender, personality=personality, chat_prompt=prompt)


@dataclass(frozen=True, slots=True)
class SetPersonaChange:
    """A v-old ``set_persona``: only the supplied fields change.

    ``gender`` / ``personality`` None mean "keep". When ``replaces_chat_prompt`` is true the
    stored prompt becomes ``chat_prompt``, where None clears it (v-old: null or empty clears).
    """

    gender: str | None
    personality: str | None
    replaces_chat_prompt: bool
    chat_prompt: str | None


def validate_set_persona(
    message: SetPersona, config: BridgeConfig, *, has_session: bool
) -> SetPersonaChange | ProtocolError:
    """Validate a v-old ``set_persona``; errors keep the connection open (v-old behaviour).

    Errors carry the v-new ``error_code`` of the failing field; v-old clients read only the
    message.
    """
    if not has_session:
        return errors.legacy_error(errors.NO_ACTIVE_SESSION_V_OLD)
    fields = message.fields
    gender: str | None = None
    raw_gender = first_given(fields, "gender", "assistant_gender")
    if raw_gender is not None:
        result = normalize_gender(raw_gender)
        if isinstance(result, FieldError):
            return ProtocolError(result.message, result.code)
        gender = result
    personality: str | None = None
    raw_personality = first_given(fields, "personality", "persona_style")
    if raw_personality is not None:
        result = normalize_personality(raw_personality, config.personality_max_len)
        if isinstance(result, FieldError):
            return ProtocolError(result.message, result.code)
        personality = result
    replaces = "chat_prompt" in fields or "persona_text" in fields
    prompt: str | None = None
    raw_prompt = first_given(fields, "chat_prompt", "persona_text")
    if replaces and raw_prompt is not None:
        try:
            prompt = sanitize_prompt(raw_prompt, config.prompt_sanitize_max_chars)
        except InvalidPrompt as exc:
            return ProtocolError(str(exc), ErrorCode.INVALID_CHAT_PROMPT)
    return SetPersonaChange(
        gender=gender,
        personality=personality,
        replaces_chat_prompt=replaces,
        chat_prompt=prompt,
    )


# ---------------------------------------------------------------------------------------------
# followup (§5.8)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FollowupRequest:
    """A validated ``followup``: the stripped analysis text."""

    analysis_text: str


def validate_followup(
    message: Followup,
    config: BridgeConfig,
    *,
    has_session: bool,
    session_has_chat_prompt: bool,
) -> FollowupRequest | ProtocolError:
    """The checks of §5.8 in order; every error keeps the connection open."""
    if not config.deploy_chat:
        return errors.legacy_error(errors.requires_chat("followup"))
    if not has_session:
        return errors.legacy_error(errors.NO_ACTIVE_SESSION)
    raw = message.fields.get("analysis_text")
    if raw is not None and not isinstance(raw, str):
        return ProtocolError(errors.ANALYSIS_TEXT_NOT_A_STRING, ErrorCode.INVALID_ANALYSIS_TEXT)
    analysis = (raw or "").strip()
    if not analysis:
        return errors.legacy_error(errors.ANALYSIS_TEXT_REQUIRED)
    if not session_has_chat_prompt:
        return errors.legacy_error(errors.FOLLOWUP_NEEDS_CHAT_PROMPT)
    return FollowupRequest(analysis)


def followup_utterance(screen_checked_prefix: str, analysis_text: str) -> str:
    """The user text of a followup turn (before the caller's 350-token truncation)."""
    return f"{screen_checked_prefix} {analysis_text}".strip()


# ---------------------------------------------------------------------------------------------
# warm_persona / warm_history (§5.5, §5.6)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WarmPersonaRequest:
    """A validated ``warm_persona``: the sanitised system prompt to prime the cache with."""

    chat_prompt: str

    @property
    def bytes(self) -> int:
        """The ``bytes`` of the ``warmed`` reply: the prompt length in characters."""
        return len(self.chat_prompt)


@dataclass(frozen=True, slots=True)
class WarmHistoryRequest:
    """A validated ``warm_history``; the caller trims it to ``HISTORY_MAX_TOKENS`` first."""

    history_text: str


def validate_warm_persona(
    message: WarmPersona, config: BridgeConfig
) -> WarmPersonaRequest | ProtocolError:
    if not config.deploy_chat:
        return errors.legacy_error(errors.requires_chat("warm_persona"))
    raw = first_given(message.fields, "chat_prompt", "persona_text")
    if raw is None:
        return errors.legacy_error(errors.WARM_PERSONA_PROMPT_REQUIRED)
    try:
        return WarmPersonaRequest(sanitize_prompt(raw, config.prompt_sanitize_max_chars))
    except InvalidPrompt as exc:
        return errors.legacy_error(str(exc))


def validate_warm_history(
    message: WarmHistory, config: BridgeConfig
) -> WarmHistoryRequest | ProtocolError:
    if not config.deploy_chat:
        return errors.legacy_error(errors.requires_chat("warm_history"))
    raw = message.fields.get("history_text")
    if raw is not None and not isinstance(raw, str):
        return ProtocolError(errors.HISTORY_TEXT_NOT_A_STRING, ErrorCode.INVALID_HISTORY_TEXT)
    return WarmHistoryRequest(raw or "")
