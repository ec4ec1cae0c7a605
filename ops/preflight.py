"""Check every setting before anything starts (the run command and the container entrypoint).

Triton takes from 25 s to minutes to load the models; a typo in a bridge variable used to
surface only after that, as a traceback. ``check`` resolves the bridge's settings, each model's
settings of the deploy mode (env var over ``config.pbtxt`` parameter, as the models do) and the
supervisor's own, and returns every problem at once, each naming the variable and what it
expects. It loads no model and imports neither vLLM nor torch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from bridge.protocol.config import BridgeConfig, ConfigError
from common import paths
from common.settings import Setting, SettingsError, resolve

_PARAMETER = re.compile(
    r'parameters\s*\{\s*key:\s*"([^"]+)"\s*value:\s*\{\s*string_value:\s*"([^"]*)"\s*\}\s*\}'
)


def pbtxt_parameters(model: str, repository: Path = paths.MODEL_REPOSITORY) -> dict[str, str]:
    """The ``parameters`` of a model's ``config.pbtxt`` (string values, as Triton passes them)."""
    path = repository / model / "config.pbtxt"
    if not path.is_file():
        return {}
    return dict(_PARAMETER.findall(path.read_text()))


def _chat(environ: Mapping[str, str]) -> None:
    from serving.chat.config import ChatConfig

    # Device only changes hardware defaults (dtype, eager), never whether a value is valid.
    ChatConfig.resolve(pbtxt_parameters("chat"), environ, device="cpu", model_name="chat")


def _screen_intent(environ: Mapping[str, str]) -> None:
    from serving.screen_intent.classifier import SCREEN_INTENT_SETTINGS

    found = resolve(
        SCREEN_INTENT_SETTINGS,
        pbtxt_parameters("screen_intent"),
        environ,
        model_name="screen_intent",
    )
    folder = Path(str(found["model"])).expanduser()
    if not (folder / "config.json").is_file():
        raise SettingsError(
            f"model 'screen_intent': TOOL_MODEL={folder} is not a checkpoint folder (no "
            "config.json); point it at the classifier, or run scripts/setup.sh for the embedded one"
        )


def _turn_prompt(environ: Mapping[str, str]) -> None:
    from serving.turn_prompt import TurnDefaults

    TurnDefaults.resolve(pbtxt_parameters("turn_prompt"), environ, model_name="turn_prompt")


def _tokenizer(environ: Mapping[str, str]) -> None:
    from serving.token_budget import tokenizer_folder

    tokenizer_folder(pbtxt_parameters("tokenizer"), environ, model_name="tokenizer")


def _bridge(environ: Mapping[str, str]) -> None:
    try:
        BridgeConfig.from_env(environ)
    except ConfigError as exc:
        raise SettingsError("bridge: " + "; ".join(exc.problems)) from None


def _table(table: tuple[Setting, ...], name: str) -> Callable[[Mapping[str, str]], None]:
    def check(environ: Mapping[str, str]) -> None:
        resolve(table, {}, environ, model_name=name)

    return check


def check(
    environ: Mapping[str, str],
    *,
    mode: str,
    bridge: bool = True,
    supervisor: tuple[Setting, ...] = (),
) -> list[str]:
    """Every problem with the settings of this deploy mode; empty when all is well."""
    checks: list[Callable[[Mapping[str, str]], None]] = []
    if supervisor:
        checks.append(_table(supervisor, "supervisor"))
    if bridge:
        checks.append(_bridge)
    if mode != "tool":
        checks.extend((_chat, _turn_prompt))
    if mode != "chat":
        checks.append(_screen_intent)
    checks.append(_tokenizer)
    problems: list[str] = []
    for run in checks:
        try:
            run(environ)
        except SettingsError as exc:
            problems.append(str(exc))
        except ImportError as exc:  # a module a model needs is missing: say which
            problems.append(f"cannot import {exc.name or exc}: {exc}")
    return problems
