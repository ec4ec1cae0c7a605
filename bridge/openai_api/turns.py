"""One OpenAI request as one Yap turn: the thin adapter between the HTTP shell and the turn code.

The request becomes a throw-away ``Session`` (OpenAI is stateless: the client sends the whole
conversation every time) and a ``TurnPlan`` with the same budgets as a WebSocket ``start``:
the persona limit (``CHAT_PROMPT_MAX_TOKENS``), the history budget (oldest turns dropped), the
utterance budget (its start kept), the §14 sampling, the phrase bias and the output cleaner.
The turn's frames (``toolcall``, ``token``, ``final``, ``done``, ``error``) arrive on a queue;
``abort()`` stops everything at once, the engine request included.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from bridge.openai_api import errors
from bridge.openai_api.errors import OpenAIError
from bridge.openai_api.request import CompletionRequest, chat_sampling_values
from bridge.protocol import errors as protocol_errors
from bridge.protocol.errors import ProtocolError
from bridge.protocol.frames import Done, Frame
from bridge.protocol.generation import chat_sampling
from bridge.protocol.history import SessionHistory
from bridge.protocol.ratelimit import SlidingWindowLimiter
from bridge.protocol.screen_context import CaptureMemory, router_context
from bridge.session import Session
from bridge.turn import Turn, TurnHandle, TurnPlan, start_turn

if TYPE_CHECKING:
    from bridge.server import BridgeApp

TurnOutput = Frame | ProtocolError


class OpenAITurn:
    def __init__(self, app: BridgeApp, request: CompletionRequest, request_id: str) -> None:
        self.app = app
        self.request = request
        self.request_id = request_id
        self.handle = TurnHandle()
        self._queue: asyncio.Queue[TurnOutput] = asyncio.Queue()

    async def prepare(self) -> OpenAIError | None:
        """Apply the token budgets (Triton counts); an error here is the client's 400."""
        app, config, conversation = self.app, self.app.config, self.request.conversation
        persona = conversation.system_prompt
        limit = config.chat_prompt_max_tokens
        if persona and config.deploy_chat and await app.budgets.exceeds(persona, limit):
            return errors.invalid(
                protocol_errors.chat_prompt_too_long_message(limit)
                + " (the system and developer messages together)",
                param="messages",
                code="chat_prompt_too_long",
            )
        utterance = conversation.user_text
        if utterance:
            utterance = await app.budgets.head(utterance, config.user_utt_max_tokens)
        history = SessionHistory().extended(conversation.history)
        if config.deploy_chat:
            history = await app.budgets.trim_history(history, config.history_max_tokens)
        session = Session(
            session_id=f"openai-{self.request_id}",
            now="",
            persona_limiter=SlidingWindowLimiter(0, 0),
            chat_prompt=persona,
            history=history,
        )
        earlier = router_context(
            history.user_texts(), CaptureMemory(), session.prefix_for_followup(config)
        )
        prompt_turns = history.turns
        session.history, turn_id = history.with_user_turn(
            utterance, session.prefix_for_check(config)
        )
        sampling = chat_sampling(
            chat_sampling_values(self.request, config),
            max_tokens=self.request.max_tokens,
            phrase_bias=app.phrase_bias if self.request.phrase_bias else {},
        )
        sampling["stop"] = [*sampling["stop"], *self.request.stop]
        self._plan = TurnPlan(
            label="openai",
            session=session,
            utterance=utterance,
            turn_id=turn_id,
            prompt_turns=prompt_turns,
            earlier_user_lines=earlier,
            sampling=sampling,
            sanitize=self.request.sanitize_output,
            decide_tool=(
                config.deploy_tool and bool(self.request.tools) and not conversation.followup
            ),
            chat=config.deploy_chat,
            check_screen_prefix=session.prefix_for_check(config),
            include_timings=True,  # the token counts for usage come with done's timings
        )
        return None

    def start(self) -> None:
        turn = Turn(
            self._plan,
            self.handle,
            config=self.app.config,
            gateway=self.app.gateway,
            emit=self._emit,
            metrics=self.app.metrics,
            phrase_bias=self.app.phrase_bias,
            speculative=self.app.speculative,
        )
        start_turn(turn)

    async def _emit(self, frame: TurnOutput) -> None:
        self._queue.put_nowait(frame)

    async def outputs(self) -> AsyncIterator[TurnOutput]:
        """The turn's frames up to its ``done`` or ``error``."""
        while True:
            frame = await self._queue.get()
            yield frame
            if isinstance(frame, Done | ProtocolError):
                return

    @property
    def finished(self) -> bool:
        return self.handle.finished

    def abort(self) -> None:
        if not self.handle.finished:
            self.handle.abort()
