"""One environment, one generation: the ``chat_turn`` ensemble (``turn_prompt``) and the bridge
build the same chat request from the same settings (``common.generation``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bridge.protocol.config import BridgeConfig
from bridge.protocol.connection_machine import ConnectionMachine
from bridge.protocol.effects import RunTurn
from bridge.protocol.sessions import SessionStore
from bridge.server import BridgeApp
from common.generation import DEFAULT_PHRASE_BIAS
from common.settings import SettingsError
from serving.turn_prompt import TurnDefaults, build_turn
from tests.machine_driver import Clock, drive
from tests.unit.test_protocol_connection_machine import budgets, start

HISTORY = "User: one\nAssistant: 1"


def bridge_sampling(environ: dict[str, str], **start_fields: Any) -> dict[str, Any]:
    """The ``sampling_parameters`` the bridge sends for a chat-mode ``start``."""
    config = BridgeConfig.from_env(
        {"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "1", "DEPLOY_MODELS": "chat"} | environ
    )
    app = BridgeApp(config, gateway=object())  # type: ignore[arg-type]  # loads the bias file
    machine = ConnectionMachine(
        config, SessionStore(config), phrase_bias=app.phrase_bias, clock=Clock()
    )
    effects = drive(
        machine.receive(json.dumps(start(utterance="two", history_text=HISTORY, **start_fields))),
        budgets,
    )
    [run] = [e for e in effects if isinstance(e, RunTurn)]
    sampling: dict[str, Any] = run.turn.plan.sampling
    return sampling


def ensemble_sampling(environ: dict[str, str], overrides: dict[str, Any]) -> dict[str, Any]:
    """The ``sampling_parameters`` the ``turn_prompt`` step hands to ``chat``."""
    defaults = TurnDefaults.resolve({}, environ)
    _messages, sampling = build_turn("", HISTORY, "two", json.dumps(overrides), defaults)
    parsed: dict[str, Any] = json.loads(sampling)
    return parsed


@pytest.mark.parametrize(
    "overrides", [{}, {"temperature": 0.3, "top_k": 12}], ids=["defaults", "overrides"]
)
def test_the_ensemble_and_the_bridge_build_the_same_request(
    tmp_path: Path, overrides: dict[str, Any]
) -> None:
    bias_file = tmp_path / "bias.json"
    bias_file.write_text(json.dumps({"Indeed": -50, "Certainly": -100}))
    environ = {
        "CHAT_TEMPERATURE": "0.5",
        "CHAT_TOP_P": "0.9",
        "CHAT_MIN_P": "0.05",
        "CHAT_MAX_OUT": "77",
        "CHAT_LOGIT_BIAS_FILE": str(bias_file),
    }
    bridge = bridge_sampling(environ, sampling=overrides)
    assert bridge == ensemble_sampling(environ, overrides)
    assert bridge["temperature"] == overrides.get("temperature", 0.5)
    assert (bridge["top_p"], bridge["min_p"], bridge["max_tokens"]) == (0.9, 0.05, 77)
    assert bridge["phrase_bias"] == {"Indeed": -50.0, "Certainly": -100.0}


def test_the_declared_defaults_are_the_same_on_both_sides() -> None:
    bridge = bridge_sampling({})
    assert bridge == ensemble_sampling({}, {})
    assert (bridge["temperature"], bridge["top_k"], bridge["max_tokens"]) == (0.8, 30, 150)
    assert bridge["phrase_bias"] == DEFAULT_PHRASE_BIAS


def test_the_ensemble_reports_bad_generation_settings_with_their_source(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        TurnDefaults.resolve(
            {}, {"CHAT_TEMPERATURE": "warm", "CHAT_TOP_K_MIN": "10", "CHAT_TOP_K_MAX": "5"}
        )
    assert caught.value.problems == (
        "env CHAT_TEMPERATURE='warm': expected a number",
        "CHAT_TOP_K_MIN=10 is greater than CHAT_TOP_K_MAX=5: expected MIN <= MAX",
    )
    with pytest.raises(SettingsError, match=r"CHAT_LOGIT_BIAS_FILE=.*cannot read"):
        TurnDefaults.resolve({}, {"CHAT_LOGIT_BIAS_FILE": str(tmp_path / "missing.json")})
