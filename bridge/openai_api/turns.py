"""One OpenAI request as one Yap turn, sans I/O: the same budgets and the same ``TurnMachine``
as a WebSocket ``start`` (``bridge.protocol.connection_machine``), for a stateless request.

``OpenAITurnScript.script()`` yields the effects of ``bridge.protocol.effects``: the persona
limit (``CHAT_PROMPT_MAX_TOKENS``; over it, one ``chat_prompt_too_long`` error frame), the
utterance cut (its start kept), the history budget (oldest turns dropped), then ``RunTurn``
with a ``TurnMachine``. From there the turn's frames (``toolcall``, ``token``, ``final``,
``done`` or one error frame) are what the HTTP shell translates; ``stop()`` returns the
effects that abort it (client gone). The session is a throw-away one: the client sends the
whole conversation every time.
"""

from __future__ import annotations

import time
from typing import Any

from bridge.openai_api.request import CompletionRequest
from bridge.protocol import errors
from bridge.protocol.config import BridgeConfig
from bridge.protocol.connection_machine import rules_from_config
from bridge.protocol.effects import (
    Effect,
    ExceedsTokens,
    HeadTokens,
    RunTurn,
    Script,
    Send,
    TrimHistories,
)
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.screen_context import CaptureMemory, router_context
from bridge.protocol.sessions import Session
from bridge.protocol.turn_machine import TurnMachine, TurnPlan
from common.generation import turn_sampling
from common.history import SessionHistory


def engine_sampling(
    request: CompletionRequest, config: BridgeConfig, phrase_bias: dict[str, float]
) -> dict[str, Any]:
    """``sampling_parameters`` of the turn: a Yap turn's, plus OpenAI's seed, logit_bias and
    stop strings (after the chat template's own)."""
    sampling = turn_sampling(
        config.sampling_defaults,
        request.sampling.sampling_parameters() if request.sampling else {},
        max_tokens=request.max_tokens,
        phrase_bias=phrase_bias if request.phrase_bias else {},
    )
    if request.seed is not None:
        sampling["seed"] = request.seed
    if request.logit_bias:
        sampling["logit_bias"] = {str(k): v for k, v in request.logit_bias.items()}
    sampling["stop"] = [*sampling["stop"], *request.stop]
    return sampling


class OpenAITurnScript:
    def __init__(
        self,
        request: CompletionRequest,
        config: BridgeConfig,
        *,
        phrase_bias: dict[str, float],
        request_id: str,
        received_at: float | None = None,
    ) -> None:
        self.request = request
        self.config = config
        self.phrase_bias = phrase_bias
        self.request_id = request_id
        self.received_at = time.monotonic() if received_at is None else received_at
        self.turn: TurnMachine | None = None

    @property
    def finished(self) -> bool:
        return self.turn is not None and self.turn.finished

    def stop(self) -> list[Effect]:
        """The client went away: abort the turn (and its engine request) now."""
        return self.turn.stop() if self.turn is not None else []

    def script(self) -> Script:
        config, conversation = self.config, self.request.conversation
        persona = conversation.system_prompt
        limit = config.chat_prompt_max_tokens
        if persona and config.deploy_chat:
            too_long = yield ExceedsTokens(persona, limit)
            if too_long:
                yield Send(errors.chat_prompt_too_long(limit))
                return
        session = Session(
            session_id=f"openai-{self.request_id}",
            now="",
            persona_limiter=SlidingWindowLimiter(0, 0),
            chat_prompt=persona,
        )
        utterance = conversation.user_text
        if utterance:
            utterance = yield HeadTokens(utterance, config.user_utt_max_tokens)
        before = SessionHistory().extended(conversation.history)
        after, turn_id = before.with_user_turn(utterance, session.prefix_for_check(config))
        if config.deploy_chat:
            before, after = yield TrimHistories((before, after), config.history_max_tokens)
        session.history = after
        plan = TurnPlan(
            label="openai",
            session=session,
            utterance=utterance,
            turn_id=turn_id,
            prompt_turns=before.turns,
            earlier_user_lines=router_context(
                before.user_texts(), CaptureMemory(), session.prefix_for_followup(config)
            ),
            sampling=engine_sampling(self.request, config, self.phrase_bias),
            sanitize=self.request.sanitize_output,
            # Without an offered tool no classifier runs; a tool result is a followup (§5.8).
            decide_tool=(
                config.deploy_tool and bool(self.request.tools) and not conversation.followup
            ),
            chat=config.deploy_chat,
            check_screen_prefix=session.prefix_for_check(config),
            include_timings=True,  # usage and the finish reason come with done's timings
            received_at=self.received_at,
        )
        self.turn = TurnMachine(plan, rules_from_config(config))
        yield RunTurn(self.turn)
