"""Drive a pure machine script (``bridge.protocol.effects``) by hand, as the shell would."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from bridge.protocol.effects import Effect, Script, Send


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


Answer = Callable[[Effect], Any]


def drive(script: Script, answer: Answer, *, stop_after: int | None = None) -> list[Effect]:
    """Run a script, answering each effect; an answer that is an exception is thrown in."""
    effects: list[Effect] = []
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = script.throw(error) if error is not None else script.send(value)
        except StopIteration:
            return effects
        effects.append(effect)
        value, error = None, None
        result = answer(effect)
        if isinstance(result, BaseException):
            error = result
        else:
            value = result
        if stop_after is not None and len(effects) >= stop_after:
            script.close()
            return effects


def frames(effects: list[Effect]) -> list[dict[str, Any]]:
    return [json.loads(e.frame.to_json()) for e in effects if isinstance(e, Send)]


def types(effects: list[Effect]) -> list[str]:
    return [f["type"] for f in frames(effects)]
