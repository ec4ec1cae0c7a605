"""Pipecat integration: ``YapLLMService``, a Pipecat LLM service that speaks the Yap protocol.

Install with ``pip install .[pipecat]``. Only ``yap_pipecat.turns`` is importable without
Pipecat; ``from yap_pipecat import YapLLMService`` needs ``pipecat-ai``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["YapLLMService"]


def __getattr__(name: str) -> Any:
    if name == "YapLLMService":
        from yap_pipecat.service import YapLLMService

        return YapLLMService
    raise AttributeError(name)
