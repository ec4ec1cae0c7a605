"""``YapLLMService``: a Pipecat LLM service backed by a Yap server over one WebSocket.

Per pipeline it holds one socket and one ``session_id``. Each ``LLMContextFrame`` becomes a
``start`` (or a ``followup`` answering a screenshot, see ``yap_pipecat.turns``); ``token``
frames become ``LLMTextFrame``s between ``LLMFullResponseStartFrame`` and
``LLMFullResponseEndFrame``. An interruption sends ``cancel`` at once, so the engine stops
generating for a reply nobody will hear. A ``toolcall`` "yes" naming a function the app
registered (``llm.register_function("take_screenshot", ...)``) becomes a Pipecat function
call; its result comes back as the next context and goes out as ``followup``. A dropped socket
is reopened (with backoff) before the next turn. TTFB is the time to the first ``token``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from loguru import logger
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    FunctionCallFromLLM,
    LLMContextFrame,
    LLMFullResponseEndFrame,
    LLMFullResponseStartFrame,
    StartFrame,
)
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import LLMService
from pipecat.services.settings import LLMSettings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from yap_pipecat.turns import ContextError, YapPersona, next_message

_CLOSED = {"type": "__closed__"}  # the reader's marker: the socket went away


class YapLLMService(LLMService):
    def __init__(
        self,
        *,
        url: str,
        api_key: str,
        gender: str = "female",
        personality: str = "friendly",
        personalities: Mapping[str, Sequence[str]] | None = None,
        sampling: Mapping[str, Any] | None = None,
        start_fields: Mapping[str, Any] | None = None,
        session_id: str | None = None,
        connect_attempts: int = 5,
        turn_timeout_s: float = 120.0,
        **kwargs: Any,
    ) -> None:
        """
        Args:
            url: the server's WebSocket URL, e.g. ``ws://localhost:8000/ws``.
            api_key: the server's ``TEXT_API_KEY`` (sent as ``Authorization: Bearer``).
            gender, personality, personalities, sampling: the ``start`` fields (§5.1, §14).
            start_fields: any other ``start`` fields (e.g. ``check_screen_prefix``).
            session_id: the Yap session (default: a new one per service).
            connect_attempts: tries per (re)connection, with backoff, before a turn fails.
        """
        # Every field set (None where Yap has no such knob: sampling goes in ``sampling``, the
        # persona comes from the system message), so Pipecat's settings check is satisfied.
        kwargs.setdefault(
            "settings",
            LLMSettings(
                model="yap",
                system_instruction=None,
                temperature=None,
                max_tokens=None,
                top_p=None,
                top_k=None,
                frequency_penalty=None,
                presence_penalty=None,
                seed=None,
                filter_incomplete_user_turns=False,
                user_turn_completion_config=None,
            ),
        )
        super().__init__(**kwargs)
        self._url = url
        self._api_key = api_key
        self._persona = YapPersona(
            gender=gender,
            personality=personality,
            personalities=personalities,
            sampling=sampling,
            extra=dict(start_fields or {}),
        )
        self._session_id = session_id or f"pipecat-{uuid.uuid4().hex[:12]}"
        self._connect_attempts = connect_attempts
        self._turn_timeout_s = turn_timeout_s
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._session_on_socket = False  # a start went out on this socket (followup allowed)
        self._cancel_ids = itertools.count(1)
        self._discard_until: str | None = None  # frames of a cancelled turn, up to its done
        self.connections = 0  # sockets opened so far (a reconnect adds one)

    def can_generate_metrics(self) -> bool:
        return True

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, frame: StartFrame) -> None:
        await super().start(frame)
        with contextlib.suppress(ConnectionError, OSError, TimeoutError):
            await self._ensure_connected()  # early, so the first turn does not wait for it

    async def stop(self, frame: EndFrame) -> None:
        await super().stop(frame)
        await self._disconnect()

    async def cancel(self, frame: CancelFrame) -> None:
        await super().cancel(frame)
        await self._disconnect()

    async def _ensure_connected(self) -> ClientConnection:
        if self._ws is not None and self._reader is not None and not self._reader.done():
            return self._ws
        await self._disconnect()
        url = self._url + ("&" if "?" in self._url else "?") + "api_key=" + quote(self._api_key)
        delay, last_error = 0.2, None
        for _attempt in range(self._connect_attempts):
            try:
                self._ws = await connect(url, open_timeout=10, max_size=2**24, compression=None)
                break
            except (OSError, TimeoutError, ConnectionClosed) as exc:
                last_error = exc
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        if self._ws is None:
            raise ConnectionError(f"cannot reach the Yap server at {self._url}: {last_error}")
        self.connections += 1
        self._session_on_socket = False
        self._discard_until = None
        self._frames = asyncio.Queue()
        self._reader = self.create_task(self._read(self._ws), name=f"{self}::yap-reader")
        return self._ws

    async def _disconnect(self) -> None:
        reader, self._reader = self._reader, None
        ws, self._ws = self._ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()
        if reader is not None:
            await self.cancel_task(reader)

    async def _read(self, ws: ClientConnection) -> None:
        """Every server frame into the queue, except those of a cancelled turn."""
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if self._discard_until is not None:
                    ends_it = frame.get("type") == "done" and frame.get("cancelled")
                    if ends_it and frame.get("request_id") == self._discard_until:
                        self._discard_until = None
                    continue
                self._frames.put_nowait(frame)
        except ConnectionClosed:
            pass
        finally:
            self._frames.put_nowait(_CLOSED)

    # -- turns -------------------------------------------------------------------------------
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, LLMContextFrame):
            await self._turn(frame.context)
        else:
            await self.push_frame(frame, direction)

    async def _send_cancel(self) -> None:
        """Stop the running turn now (interruption); its late frames are dropped."""
        ws = self._ws
        if ws is None:
            return
        request_id = f"pipecat-cancel-{next(self._cancel_ids)}"
        self._discard_until = request_id
        while not self._frames.empty():  # what already arrived belongs to the old turn
            self._frames.get_nowait()
        with contextlib.suppress(Exception):
            await ws.send(json.dumps({"type": "cancel", "request_id": request_id}))

    async def _turn(self, context: LLMContext) -> None:
        instruction = self._settings.system_instruction
        try:
            message = next_message(
                context.get_messages(),
                instruction if isinstance(instruction, str) else None,
                self._persona,
                session_id=self._session_id,
                session_on_socket=self._session_on_socket,
            )
        except ContextError as exc:
            await self.push_error(error_msg=f"Yap: the context cannot be a turn: {exc}")
            return
        await self.push_frame(LLMFullResponseStartFrame())
        await self.start_processing_metrics()
        await self.start_ttfb_metrics()
        calls: list[dict[str, Any]] = []
        running = completed = False
        try:
            ws = await self._ensure_connected()
            await ws.send(json.dumps(message))
            running = True
            if message["type"] == "start":
                self._session_on_socket = True
            async with asyncio.timeout(self._turn_timeout_s):
                running = await self._stream(calls)
            completed = True
        except asyncio.CancelledError:
            if running:  # an interruption: the engine must stop now, not at the reply's end
                await self._send_cancel()
            raise
        except (ConnectionError, OSError, ConnectionClosed) as exc:
            await self.push_error(error_msg=f"Yap: connection failed: {exc}", exception=exc)
        except TimeoutError:
            await self._send_cancel()
            await self.push_error(error_msg=f"Yap: no reply within {self._turn_timeout_s} s")
        finally:
            await self.stop_ttfb_metrics()
            await self.stop_processing_metrics()
            if completed:
                await self._call_functions(context, calls)
            # Also when interrupted (as Pipecat's own LLM services do): the response is over.
            await self.push_frame(LLMFullResponseEndFrame())

    async def _stream(self, calls: list[dict[str, Any]]) -> bool:
        """Read the turn's frames; False once it is over (done, error or a dropped socket)."""
        while True:
            frame = await self._frames.get()
            kind = frame.get("type")
            if kind == "token":
                await self.stop_ttfb_metrics()
                await self._push_llm_text(str(frame.get("text", "")))
            elif kind == "toolcall":
                if frame.get("status") == "yes" and isinstance(frame.get("raw"), list):
                    calls.extend(c for c in frame["raw"] if isinstance(c, dict))
            elif kind == "done":
                return False
            elif kind == "error":
                code = frame.get("error_code") or "error"
                await self.push_error(error_msg=f"Yap {code}: {frame.get('message')}")
                return False
            elif frame is _CLOSED:
                await self.push_error(error_msg="Yap: the connection dropped during the turn")
                return False

    async def _call_functions(self, context: LLMContext, raw: list[dict[str, Any]]) -> None:
        """The tool decision's "yes" as calls of the functions the app registered."""
        calls = [
            FunctionCallFromLLM(
                function_name=str(entry["name"]),
                tool_call_id=f"yap-{uuid.uuid4().hex[:16]}",
                arguments={k: v for k, v in entry.items() if k != "name"},
                context=context,
            )
            for entry in raw
            if self.has_function(str(entry.get("name")))
        ]
        if raw and not calls:
            logger.debug(f"{self}: tool decision {raw} names no registered function")
        if calls:
            await self.run_function_calls(calls)
