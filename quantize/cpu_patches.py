"""Runtime fixes that let llmcompressor 0.14 run on a machine without an accelerator.

Applied by the exporter before ``oneshot``, and only when ``torch.accelerator`` reports no
device; nothing in site-packages is edited. Each patch names the failure it prevents.
"""

from __future__ import annotations

from typing import Any

PATCHED_MARK = "_yap_cpu_patch"


def _skip_pin_memory(self: Any, batch_index: int, input_names: list[str] | None = None) -> None:
    """Pinned memory only speeds up host-to-accelerator copies; without one there are none."""
    del self, batch_index, input_names


def apply() -> list[str]:
    """Patch what needs patching on this machine; return a line per patch applied."""
    import torch

    if torch.accelerator.is_available():
        return []
    applied: list[str] = []
    from llmcompressor.pipelines.cache import IntermediatesCache

    # AWQ pins its cached activations before each grid search (transform/awq/base.py); on a
    # machine with no accelerator ``Tensor.pin_memory()`` raises
    # "RuntimeError: Cannot access accelerator device when none is available".
    if not getattr(IntermediatesCache.pin_memory, PATCHED_MARK, False):
        setattr(_skip_pin_memory, PATCHED_MARK, True)
        IntermediatesCache.pin_memory = _skip_pin_memory  # type: ignore[method-assign]
    applied.append("IntermediatesCache.pin_memory skipped (no accelerator to copy to)")
    if _quiet_device_warning():
        applied.append("llmcompressor's 'No accelerator available!' warning shown once")
    return applied


def _quiet_device_warning() -> bool:
    """llmcompressor warns "No accelerator available!" on every layer (hundreds of lines)."""
    import importlib
    import sys

    from loguru import logger

    # ``llmcompressor.logger`` the module (the package re-exports loguru's ``logger`` object).
    llmc_logger = importlib.import_module("llmcompressor.logger")

    config = llmc_logger.LOGGER_CONFIG
    if getattr(config, "disabled", False) or not getattr(config, "console_log_level", None):
        return False
    seen = {"device": False}

    def keep(record: Any) -> bool:
        if record["function"] == "get_main_device" and record["level"].name == "WARNING":
            if seen["device"]:
                return False
            seen["device"] = True
        return llmc_logger.support_log_once(record)

    logger.remove()
    logger.add(
        sys.stdout,
        level=str(config.console_log_level).upper(),
        format="{time:YYYY-MM-DDTHH:mm:ss.SSSS} | {function} | {level} - {message}",
        filter=keep,
    )
    return True
