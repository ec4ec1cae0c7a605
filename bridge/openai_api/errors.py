"""OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}`` with an HTTP status.

One place lists the errors this front door answers. Messages say what was wrong and how to fix
it; they never carry a stack trace or gRPC internals.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

INVALID_REQUEST = "invalid_request_error"
AUTHENTICATION = "authentication_error"
NOT_FOUND = "not_found_error"
RATE_LIMIT = "rate_limit_error"
SERVER = "server_error"


@dataclass(frozen=True, slots=True)
class OpenAIError:
    status: int
    message: str
    type: str = INVALID_REQUEST
    code: str | None = None
    param: str | None = None
    retry_after: int | None = None  # seconds, sent as the Retry-After header

    def to_dict(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> OpenAIError:
    return OpenAIError(400, message, INVALID_REQUEST, code, param)


def unsupported_fields(names: list[str]) -> OpenAIError:
    listed = ", ".join(f"'{name}'" for name in names)
    noun = "field is" if len(names) == 1 else "fields are"
    return OpenAIError(
        400,
        f"Unsupported {noun} {listed}: this server does not implement "
        f"{'it' if len(names) == 1 else 'them'}; remove {'it' if len(names) == 1 else 'them'} "
        "from the request (see the README's OpenAI section for what is supported).",
        INVALID_REQUEST,
        "unsupported_parameter",
        names[0],
    )


def invalid_api_key() -> OpenAIError:
    return OpenAIError(
        401,
        "Invalid or missing API key: send it as 'Authorization: Bearer <key>' "
        "(the bridge's TEXT_API_KEY).",
        AUTHENTICATION,
        "invalid_api_key",
    )


def model_not_found(model: str, served: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"The model '{model}' does not exist; this server serves '{served}'.",
        NOT_FOUND,
        "model_not_found",
        "model",
    )


def not_found(path: str) -> OpenAIError:
    return OpenAIError(
        404,
        f"Unknown path {path}: this server has POST /v1/chat/completions and GET /v1/models.",
        NOT_FOUND,
        "not_found",
    )


def method_not_allowed(method: str, path: str) -> OpenAIError:
    return OpenAIError(
        405, f"{method} is not allowed on {path}.", INVALID_REQUEST, "method_not_allowed"
    )


def rate_limited(limit: int, window_s: float, retry_in: int) -> OpenAIError:
    return OpenAIError(
        429,
        f"Rate limit reached: at most {limit} requests per {window_s:g} s from one client; "
        f"retry in {retry_in} s.",
        RATE_LIMIT,
        "rate_limit_exceeded",
        retry_after=retry_in,
    )


def at_capacity(active: int, maximum: int) -> OpenAIError:
    return OpenAIError(
        429,
        f"Server is at capacity. Active connections: {active}/{maximum}. Please try again later.",
        RATE_LIMIT,
        "server_at_capacity",
        retry_after=1,
    )


def engine_unavailable(detail: str) -> OpenAIError:
    return OpenAIError(
        503,
        f"The chat engine is unavailable: {detail}",
        SERVER,
        "engine_unavailable",
        retry_after=1,
    )


def generation_timeout(seconds: float) -> OpenAIError:
    return OpenAIError(
        504, f"Generation exceeded {seconds:g} s (GEN_TIMEOUT_S).", SERVER, "generation_timeout"
    )


def internal(message: str) -> OpenAIError:
    return OpenAIError(500, message, SERVER, "internal_error")


def draining() -> OpenAIError:
    return OpenAIError(
        503,
        "The server is shutting down; retry on another instance.",
        SERVER,
        "draining",
        retry_after=1,
    )
