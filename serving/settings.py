"""Typed model settings resolved once from Triton config parameters and the environment.

Every model in ``model_repository/`` declares its settings as a table of ``Setting`` rows: the
config parameter key, the env var that overrides it, the default and a parser. ``resolve``
reads them all, reports every bad value at once with what was expected, and records where
each value came from so that the model can log its effective configuration.

Precedence: env var, then the model's ``config.pbtxt`` parameter, then the default.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class SettingsError(ValueError):
    """One or more settings have bad values; the message lists each of them."""


@dataclass(frozen=True)
class Setting:
    key: str  # config.pbtxt parameter key
    env: str  # env var that overrides it
    default: Any
    parse: Callable[[str], Any]
    doc: str


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def parse_int(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        if minimum is not None and value < minimum:
            raise ValueError(f"expected an integer >= {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected an integer <= {maximum}")
        return value

    return parse


def parse_float(
    minimum: float | None = None, maximum: float | None = None
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        if minimum is not None and value < minimum:
            raise ValueError(f"expected a number >= {minimum}")
        if maximum is not None and value > maximum:
            raise ValueError(f"expected a number <= {maximum}")
        return value

    return parse


def parse_choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


def parse_text(text: str) -> str:
    return text.strip()


def parse_json_object(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"expected a JSON object ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


@dataclass(frozen=True)
class Resolved:
    values: dict[str, Any]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def describe(self) -> str:
        """One line per setting with its source, for the model's start-up log."""
        return ", ".join(f"{key}={self.values[key]!r} ({self.sources[key]})" for key in self.values)


def resolve(
    table: Sequence[Setting],
    parameters: Mapping[str, str],
    environ: Mapping[str, str],
    *,
    model_name: str,
) -> Resolved:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[str] = []
    for setting in table:
        raw: str | None = None
        if environ.get(setting.env, "").strip():
            raw, source = environ[setting.env], f"env {setting.env}"
        elif parameters.get(setting.key, "").strip():
            raw, source = parameters[setting.key], f"config parameter {setting.key}"
        if raw is None:
            values[setting.key], sources[setting.key] = setting.default, "default"
            continue
        try:
            values[setting.key] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{source}={raw!r}: {exc}")
            continue
        sources[setting.key] = source
    if problems:
        raise SettingsError(f"model '{model_name}' has bad settings: " + "; ".join(problems))
    return Resolved(values, sources)


def config_parameters(model_config: Mapping[str, Any]) -> dict[str, str]:
    """Flatten ``parameters { key: ... value: { string_value: ... } }`` of a model config."""
    found = model_config.get("parameters") or {}
    return {key: str(value.get("string_value", "")) for key, value in found.items()}


def markdown_table(table: Sequence[Setting]) -> str:
    """README table of a model's settings (generated, so it cannot drift)."""
    from common.paths import REPO_ROOT

    rows = ["| env var | config parameter | default | meaning |", "|---|---|---|---|"]
    for setting in table:
        value = setting.default
        if isinstance(value, str) and value.startswith(str(REPO_ROOT)):
            value = "<repo>" + value[len(str(REPO_ROOT)) :]
        default = "" if value in (None, "", {}) else f"`{value}`"
        rows.append(f"| `{setting.env}` | `{setting.key}` | {default} | {setting.doc} |")
    return "\n".join(rows)
