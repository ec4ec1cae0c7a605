"""``YapLLMService`` in real Pipecat pipelines (context aggregators, a pipeline worker and its
runner; no Pipecat mocks) against the real bridge and Triton stack: a turn with its frames and
TTFB, an interruption mid-stream that stops the engine and leaves the history cut where the
user stopped it, take_screenshot as a function call whose result becomes a followup, and a
reconnect after the server dropped the socket."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

pytest.importorskip("pipecat")

from pipecat.frames.frames import (  # noqa: E402
    Frame,
    InterruptionFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    LLMMessagesAppendFrame,
    LLMTextFrame,
    MetricsFrame,
)
from pipecat.metrics.metrics import TTFBMetricsData  # noqa: E402
from pipecat.pipeline.pipeline import Pipeline  # noqa: E402
from pipecat.pipeline.worker import PipelineParams, PipelineWorker  # noqa: E402
from pipecat.processors.aggregators.llm_context import LLMContext  # noqa: E402
from pipecat.processors.aggregators.llm_response_universal import (  # noqa: E402
    LLMContextAggregatorPair,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor  # noqa: E402
from pipecat.services.llm_service import FunctionCallParams  # noqa: E402
from pipecat.workers.runner import WorkerRunner  # noqa: E402

from bridge.protocol.config import BridgeConfig  # noqa: E402
from bridge.server import BridgeApp  # noqa: E402
from ops.triton_server import TritonServer  # noqa: E402
from yap_pipecat import YapLLMService  # noqa: E402

from .helpers import metric, scrape, wait_for  # noqa: E402

pytestmark = pytest.mark.integration

KEY = "test-key-pipecat"
PERSONA = "You are Maya, a warm and witty voice assistant. Keep every reply to one short sentence."
LONG_STORY = (
    "Please tell me a very long and detailed story about a dragon who learns to bake bread."
)


class Recorder(FrameProcessor):
    """Keeps every frame that passes (and passes it on)."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        self.frames.append(frame)
        await self.push_frame(frame, direction)

    def count(self, kind: type) -> int:
        return sum(isinstance(f, kind) for f in self.frames)

    async def until(self, predicate: Callable[[], bool], timeout_s: float = 90.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"frames so far: {[type(f).__name__ for f in self.frames]}")
            await asyncio.sleep(0.02)


class Bot:
    def __init__(self, app: BridgeApp, llm: YapLLMService, context: LLMContext) -> None:
        self.app, self.llm, self.context = app, llm, context
        self.recorder = Recorder()
        pair = LLMContextAggregatorPair(context)
        pipeline = Pipeline([pair.user(), llm, self.recorder, pair.assistant()])
        self.worker = PipelineWorker(
            pipeline, params=PipelineParams(enable_metrics=True), cancel_on_idle_timeout=False
        )

    async def say(self, text: str) -> None:
        message = {"role": "user", "content": text}
        await self.worker.queue_frame(LLMMessagesAppendFrame(messages=[message], run_llm=True))

    async def replies(self, count: int) -> None:
        await self.recorder.until(lambda: self.recorder.count(LLMFullResponseEndFrame) >= count)


def run_pipeline(triton: TritonServer, scenario: Callable[[Bot], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        app = BridgeApp(
            BridgeConfig.from_env(
                {
                    "TEXT_API_KEY": KEY,
                    "MAX_CONCURRENT_CONNECTIONS": "8",
                    "TRITON_GRPC_URL": triton.grpc_url,
                    "BRIDGE_HOST": "127.0.0.1",
                    "BRIDGE_PORT": "0",
                    "OPENAI_PORT": "-1",
                }
            )
        )
        await app.start()
        llm = YapLLMService(url=f"ws://127.0.0.1:{app.port}/ws", api_key=KEY)
        bot = Bot(app, llm, LLMContext([{"role": "system", "content": PERSONA}]))
        runner = WorkerRunner(handle_sigint=False)
        await runner.add_workers(bot.worker)
        running = asyncio.ensure_future(runner.run())
        try:
            return await scenario(bot)
        finally:
            await bot.worker.cancel()
            await asyncio.wait_for(running, 30)
            await app.stop()

    return asyncio.run(main())


def texts(frames: list[Frame]) -> str:
    return "".join(f.text for f in frames if isinstance(f, LLMTextFrame))


def test_a_turn_streams_text_frames_and_reports_ttfb(triton: TritonServer) -> None:
    async def scenario(bot: Bot) -> Any:
        await bot.say("hi, how are you today?")
        await bot.replies(1)
        await bot.say("and what's two plus two?")
        await bot.replies(2)
        session = bot.app.sessions.get(bot.llm._session_id)
        return bot.recorder.frames, bot.context.get_messages(), session

    frames, messages, session = run_pipeline(triton, scenario)
    kinds = [
        type(f)
        for f in frames
        if isinstance(f, LLMFullResponseStartFrame | LLMTextFrame | LLMFullResponseEndFrame)
    ]
    first_end = kinds.index(LLMFullResponseEndFrame)
    assert kinds[0] is LLMFullResponseStartFrame and LLMTextFrame in kinds[1:first_end]
    ttfb = [
        d
        for f in frames
        if isinstance(f, MetricsFrame)
        for d in f.data
        if isinstance(d, TTFBMetricsData)
    ]
    measured = [d.value for d in ttfb if d.value > 0]  # Pipecat first reports a 0 (a reset)
    assert len(measured) == 2 and all(v < 60 for v in measured)  # one per turn
    # The assistant aggregator stored the reply; the second start sent it as history_text.
    replies = [m["content"] for m in messages if m.get("role") == "assistant"]
    assert len(replies) == 2 and all(r.strip() for r in replies)
    assert session is not None and session.chat_prompt == PERSONA
    assert [t.user for t in session.history.turns] == [
        "hi, how are you today?",
        "and what's two plus two?",
    ]
    assert session.history.turns[0].assistant == replies[0].strip()


def test_an_interruption_cancels_at_once_and_stops_the_engine(triton: TritonServer) -> None:
    aborted = lambda: metric(  # noqa: E731
        scrape(triton.metrics_url), "vllm:request_success_total", finished_reason="abort"
    )
    before = aborted()

    async def scenario(bot: Bot) -> Any:
        await bot.say(LONG_STORY)
        await bot.recorder.until(lambda: bot.recorder.count(LLMTextFrame) >= 3)
        await bot.worker.queue_frame(InterruptionFrame())
        await bot.replies(1)  # the interrupted response still ends (End frame)
        spoken = texts(bot.recorder.frames)
        await asyncio.sleep(1.0)  # late tokens of the old turn must not leak into the next
        leaked = texts(bot.recorder.frames)[len(spoken) :]
        await bot.say("ok stop. what's two plus two?")
        await bot.replies(2)
        session = bot.app.sessions.get(bot.llm._session_id)
        return spoken, leaked, bot.context.get_messages(), session

    spoken, leaked, messages, session = run_pipeline(triton, scenario)
    assert leaked == ""
    assert wait_for(lambda: aborted() > before, timeout_s=10), "the engine never aborted"
    assert wait_for(
        lambda: metric(scrape(triton.metrics_url), "vllm:num_requests_running") == 0, timeout_s=5
    )
    story = next(m["content"] for m in messages if m.get("role") == "assistant")
    assert story.strip() == spoken.strip()  # the context keeps what was said before the stop
    assert session.history.turns[0].assistant == spoken.strip()  # and so does history_text
    assert len(spoken.split()) < 100  # cut short: the full story would be far longer


def test_take_screenshot_is_a_function_call_and_its_result_a_followup(
    triton: TritonServer,
) -> None:
    async def scenario(bot: Bot) -> Any:
        calls: list[FunctionCallParams] = []

        async def take_screenshot(params: FunctionCallParams) -> None:
            calls.append(params)
            await params.result_callback("A spreadsheet of monthly sales; March is in red.")

        bot.llm.register_function("take_screenshot", take_screenshot)
        await bot.say("take a screenshot")
        await bot.replies(2)  # the turn (with its filler text), then the followup's answer
        turns = bot.app.metrics.turns
        return calls, texts(bot.recorder.frames), turns.labels(kind="followup", outcome="ok")

    calls, spoken, followups = run_pipeline(triton, scenario)
    assert [c.function_name for c in calls] == ["take_screenshot"]
    assert spoken.strip()
    assert followups._value.get() == 1  # the result went out as a Yap followup


def test_reconnects_after_the_server_dropped_the_socket(triton: TritonServer) -> None:
    async def scenario(bot: Bot) -> Any:
        await bot.say("hi there")
        await bot.replies(1)
        for connection in list(bot.app.connections):
            await connection.close(1012, "server restarting")
        await asyncio.sleep(0.3)
        await bot.say("are you still there?")
        await bot.replies(2)
        return bot.llm.connections, bot.recorder.count(LLMTextFrame)

    connections, text_frames = run_pipeline(triton, scenario)
    assert connections == 2 and text_frames >= 2
