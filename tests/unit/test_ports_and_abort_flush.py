"""Two pieces of plumbing that once made runs fail by chance: ports picked for servers, and the
abort requests a stopping bridge still has in flight."""

from __future__ import annotations

import asyncio
import socket

import pytest

from bridge import triton_gateway
from bridge.triton_gateway import TritonGateway
from ops import triton_server
from ops.triton_server import free_port


def test_free_ports_are_bindable_distinct_and_outside_the_kernels_own_range() -> None:
    low, high = triton_server._ephemeral_ports()
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    for port in ports:
        assert not low <= port <= high, f"{port} is in the ephemeral range {low}-{high}"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # raises if it was not free


def test_a_port_in_use_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        monkeypatch.setattr(triton_server, "_ephemeral_ports", lambda: (busy + 1, 60999))
        monkeypatch.setattr(triton_server, "_LOWEST_PORT", busy - 999)
        ports = {free_port() for _ in range(100)}
    assert busy not in ports


def test_close_waits_for_aborts_still_in_flight() -> None:
    delivered: list[str] = []

    async def main() -> None:
        async def abort() -> None:
            await asyncio.sleep(0.2)
            delivered.append("abort")

        gateway = TritonGateway("127.0.0.1:1")
        gateway._track_abort(asyncio.get_running_loop().create_task(abort()))
        await gateway.close()

    asyncio.run(main())
    assert delivered == ["abort"]


def test_close_does_not_hang_on_an_abort_that_never_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(triton_gateway, "ABORT_FLUSH_S", 0.1)

    async def main() -> float:
        gateway = TritonGateway("127.0.0.1:1")
        task = asyncio.get_running_loop().create_task(asyncio.sleep(3600))
        gateway._track_abort(task)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await gateway.close()
        task.cancel()
        return loop.time() - began

    assert asyncio.run(main()) < 2.0
