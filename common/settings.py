"""The settings kernel: how a setting is declared, parsed, resolved and documented.

A ``Setting`` is declared once, next to the code that owns it: its env var, its default, its
parser (which knows what it expects), its doc line, whether it is a secret and, for a Triton
model, the ``config.pbtxt`` parameter that may also set it (``Setting.for_parameter``). A table
is a tuple of settings; the bridge, each Triton model and the supervisor resolve their own.

Rules of ``collect`` / ``resolve``:

* Precedence: the env var, then the config parameter, then the default.
* An empty value counts as unset (the default applies; a required setting is missing).
* Every problem is reported, all at once, each naming its source (env var or config parameter),
  the bad value and what is expected. Secrets are never echoed.

``markdown_table`` renders a table for the README (``python -m ops.docs``). Standard library
only: the bridge and the Triton side both import it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final


class SettingsError(ValueError):
    """Settings with bad values; ``problems`` lists each one (the message joins them)."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        self.problems: tuple[str, ...] = tuple(problems) or (message,)
        super().__init__(message)


# ---------------------------------------------------------------------------------------------
# Parsers: each raises ValueError("expected ...") naming the rule a value broke, and describes
# everything it accepts in ``expected`` (for the full message and the README table).
# ---------------------------------------------------------------------------------------------


class Parser:
    expected: str
    type_name: str

    def __call__(self, raw: str) -> Any:
        raise NotImplementedError


class Int(Parser):
    type_name = "int"

    def __init__(self, minimum: int | None = None, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        self.expected = _range_text("an integer", minimum, maximum)

    def __call__(self, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError("expected an integer") from None
        _check_range("an integer", value, self.minimum, self.maximum)
        return value


class Float(Parser):
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
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError("expected a number") from None
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        if self.exclusive_minimum and self.minimum is not None and value <= self.minimum:
            raise ValueError(f"expected a number > {self.minimum}")
        _check_range("a number", value, self.minimum, self.maximum)
        return value


class Bool(Parser):
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
        raise ValueError("expected true or false")


class Choice(Parser):
    type_name = "choice"

    def __init__(self, *choices: str) -> None:
        self.choices = choices
        self.expected = "one of " + ", ".join(choices)

    def __call__(self, raw: str) -> str:
        value = raw.strip().lower()
        if value not in self.choices:
            raise ValueError(f"expected {self.expected}")
        return value


class Text(Parser):
    type_name = "str"

    def __init__(self, *, max_utf8_bytes: int | None = None) -> None:
        self.max_utf8_bytes = max_utf8_bytes
        self.expected = "a non-empty string"
        if max_utf8_bytes is not None:
            self.expected += f" of at most {max_utf8_bytes} UTF-8 bytes"

    def __call__(self, raw: str) -> str:
        value = raw.strip()
        if not value:
            raise ValueError("expected a non-empty string")
        if self.max_utf8_bytes is not None and len(value.encode()) > self.max_utf8_bytes:
            raise ValueError(f"expected at most {self.max_utf8_bytes} UTF-8 bytes")
        return value


class JsonObject(Parser):
    type_name = "json"
    expected = "a JSON object"

    def __call__(self, raw: str) -> dict[str, Any]:
        try:
            value = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"expected a JSON object ({exc})") from None
        if not isinstance(value, dict):
            raise ValueError("expected a JSON object")
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


def _check_range(what: str, value: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"expected {what} >= {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"expected {what} <= {maximum}")


# ---------------------------------------------------------------------------------------------
# Declarations
# ---------------------------------------------------------------------------------------------


class _Required:
    """Marker: the setting has no default."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Final = _Required()


@dataclass(frozen=True, slots=True)
class Derived:
    """A default computed from settings earlier in the same table (by their ``key``)."""

    describe: str
    compute: Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting: ``name`` is its env var; ``parameter`` the config.pbtxt key, if any."""

    name: str
    parse: Parser
    default: Any
    doc: str
    parameter: str | None = None
    secret: bool = False

    @property
    def key(self) -> str:
        """Where the resolved value is found: the config parameter, else the lower-case env var."""
        return self.parameter or self.name.lower()

    @property
    def field(self) -> str:
        return self.name.lower()

    def for_parameter(self, parameter: str) -> Setting:
        """The same setting as a Triton model reads it: also settable in its config.pbtxt."""
        return dataclasses.replace(self, parameter=parameter)

    @property
    def default_text(self) -> str:
        from common.paths import REPO_ROOT

        value = self.default
        if value is REQUIRED:
            return "required"
        if isinstance(value, Derived):
            return value.describe
        if value is None:
            return "unset"
        if isinstance(value, bool):
            return "true" if value else "false"
        if value in ("", {}):
            return ""
        if isinstance(value, str) and value.startswith(str(REPO_ROOT)):
            value = "<repo>" + value[len(str(REPO_ROOT)) :]
        return f"`{value}`"


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A bad or missing value and where it came from (``raw`` is None when missing)."""

    setting: Setting
    source: str  # "env NAME", "config parameter key" or "" (missing)
    raw: str | None
    reason: str  # the rule it broke, e.g. "expected an integer >= 64"

    @property
    def shown(self) -> str:
        return "<redacted>" if self.setting.secret else repr(self.raw)

    def __str__(self) -> str:
        """The full message: the source, the value and everything the setting accepts."""
        expected = self.setting.parse.expected
        if self.raw is None:
            return f"{self.setting.name} is required: expected {expected}"
        where = self.setting.name if self.source.startswith("env ") else self.source
        return f"{where}={self.shown} is invalid: expected {expected}"

    @property
    def brief(self) -> str:
        """The short message: the source, the value and the rule it broke."""
        if self.raw is None:
            return f"{self.setting.name} is required: expected {self.setting.parse.expected}"
        return f"{self.source}={self.shown}: {self.reason}"


@dataclass(frozen=True)
class Resolved:
    """Values and their sources by ``Setting.key``."""

    values: dict[str, Any]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def describe(self) -> str:
        """One line with every setting and its source, for a model's start-up log."""
        return ", ".join(f"{key}={self.values[key]!r} ({self.sources[key]})" for key in self.values)


def collect(
    table: Sequence[Setting], parameters: Mapping[str, str], environ: Mapping[str, str]
) -> tuple[Resolved, list[Problem]]:
    """Parse every setting of ``table``; a bad or missing value gives a problem and None."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems: list[Problem] = []
    for setting in table:
        key = setting.key
        raw: str | None = None
        source = "default"
        if environ.get(setting.name, "").strip():
            raw, source = environ[setting.name], f"env {setting.name}"
        elif setting.parameter and parameters.get(setting.parameter, "").strip():
            raw, source = parameters[setting.parameter], f"config parameter {setting.parameter}"
        sources[key] = source
        if raw is None:
            if setting.default is REQUIRED:
                problems.append(Problem(setting, "", None, f"expected {setting.parse.expected}"))
                values[key] = None
            elif isinstance(setting.default, Derived):
                try:
                    values[key] = setting.default.compute(values)
                except (TypeError, KeyError):  # a source setting was itself invalid
                    values[key] = None
            else:
                values[key] = setting.default
            continue
        try:
            values[key] = setting.parse(raw)
        except ValueError as exc:
            problems.append(Problem(setting, source, raw, str(exc)))
            values[key] = None
    return Resolved(values, sources), problems


def resolve(
    table: Sequence[Setting],
    parameters: Mapping[str, str],
    environ: Mapping[str, str],
    *,
    model_name: str,
    check: Callable[[Mapping[str, Any]], list[str]] | None = None,
) -> Resolved:
    """``collect``, then raise one ``SettingsError`` naming ``model_name`` and every problem."""
    found, problems = collect(table, parameters, environ)
    messages = [problem.brief for problem in problems]
    if check is not None:
        messages.extend(check(found.values))
    if messages:
        raise SettingsError(
            f"model '{model_name}' has bad settings: " + "; ".join(messages), messages
        )
    return found


def config_parameters(model_config: Mapping[str, Any]) -> dict[str, str]:
    """Flatten ``parameters { key: ... value: { string_value: ... } }`` of a Triton model config."""
    found = model_config.get("parameters") or {}
    return {key: str(value.get("string_value", "")) for key, value in found.items()}


def markdown_table(table: Sequence[Setting]) -> str:
    """The README table of ``table`` (generated, so it cannot drift); no trailing newline."""
    with_parameter = any(setting.parameter for setting in table)
    head = ["Variable", "Type", "Default", "Expected"]
    head += ["Config parameter"] if with_parameter else []
    rows = ["| " + " | ".join([*head, "Meaning"]) + " |", "|" + "---|" * (len(head) + 1)]
    for setting in table:
        cells = [
            f"`{setting.name}`",
            setting.parse.type_name,
            setting.default_text,
            setting.parse.expected,
        ]
        if with_parameter:
            cells.append(f"`{setting.parameter}`" if setting.parameter else "")
        cells.append(setting.doc.replace("|", "\\|"))
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)
