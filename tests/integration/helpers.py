"""Helpers for the integration tests: gateways in fresh loops, raw Triton requests, metrics."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from typing import Any

import numpy as np

from bridge.triton_gateway import TritonGateway


def with_gateway(url: str, scenario):  # type: ignore[no-untyped-def]
    """Run ``scenario(gateway)`` in a fresh event loop with its own gRPC client.

    The gRPC aio client binds to the loop it was made in, so each test makes its own.
    """

    async def main():  # type: ignore[no-untyped-def]
        gateway = TritonGateway(url, timeout_s=60)
        try:
            return await scenario(gateway)
        finally:
            await gateway.close()

    return asyncio.run(main())


def scrape(metrics_url: str) -> dict[str, float]:
    """Prometheus text to {series: value}; series keep their labels, e.g. 'x{a="b"}'."""
    body = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    found: dict[str, float] = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        try:
            found[series] = float(value)
        except ValueError:
            continue
    return found


def metric(values: dict[str, float], name: str, **labels: str) -> float:
    """Sum of every series of ``name`` whose labels include ``labels``."""
    total = 0.0
    for series, value in values.items():
        base = series.split("{", 1)[0]
        if base != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if all(found.get(k) == v for k, v in labels.items()):
            total += value
    return total


def wait_for(predicate, timeout_s: float = 10.0, interval_s: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return bool(predicate())


def bytes_input(name: str, text: str) -> Any:
    from tritonclient.grpc import InferInput

    tensor = InferInput(name, [1], "BYTES")
    tensor.set_data_from_numpy(np.array([text.encode()], dtype=np.object_))
    return tensor


def bool_input(name: str, value: bool) -> Any:
    from tritonclient.grpc import InferInput

    tensor = InferInput(name, [1], "BOOL")
    tensor.set_data_from_numpy(np.array([value], dtype=bool))
    return tensor


async def stream_raw(url: str, model: str, inputs: list[Any]) -> tuple[list[Any], list[str]]:
    """Send one streamed request; return (results, error messages)."""
    import tritonclient.grpc.aio as grpcclient

    client = grpcclient.InferenceServerClient(url)

    async def requests():  # type: ignore[no-untyped-def]
        yield {"model_name": model, "inputs": inputs}

    results, errors = [], []
    try:
        async for result, error in client.stream_infer(requests()):
            if error is not None:
                errors.append(str(error))
                break
            results.append(result)
            if result.get_response().parameters["triton_final_response"].bool_param:
                break
    finally:
        await client.close()
    return results, errors


def chat_inputs(
    messages: list[dict[str, str]], sampling: dict[str, Any], **flags: bool
) -> list[Any]:
    inputs = [bytes_input("messages", json.dumps(messages)), bool_input("stream", True)]
    inputs.append(bytes_input("sampling_parameters", json.dumps(sampling)))
    inputs += [bool_input(name, value) for name, value in flags.items()]
    return inputs
