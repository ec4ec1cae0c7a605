"""Real tritonserver fixtures: the real model repository with the embedded default models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ops.triton_server import DEPLOY_MODES, TritonServer


@pytest.fixture(scope="session")
def triton() -> Iterator[TritonServer]:
    """All models of the ``both`` deploy mode, started once for the session."""
    server = TritonServer(models=DEPLOY_MODES["both"])
    server.start(timeout_s=600)
    try:
        yield server
    finally:
        server.stop()
