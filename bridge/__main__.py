"""Run the bridge: ``python -m bridge`` (configuration from the environment, see README)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from bridge.protocol.config import BridgeConfig, ConfigError
from bridge.server import BridgeApp


def configure_logging() -> None:
    level = os.environ.get("BRIDGE_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)


async def serve(config: BridgeConfig) -> None:
    app = BridgeApp(config)
    await app.start()
    log = logging.getLogger("yap.bridge")
    log.info(
        "listening host=%s port=%d deploy=%s triton=%s speculative=%s",
        config.bridge_host,
        app.port,
        config.deploy_models,
        config.triton_grpc_url,
        config.concurrent_model_call,
    )
    if app.openai_port is not None:
        log.info("openai endpoint host=%s port=%d", config.bridge_host, app.openai_port)
    status, body = await app.health()
    if status != 200:
        log.warning("triton not ready yet: %s", body.get("message"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    # SIGTERM / Ctrl-C: drain (running turns finish up to DRAIN_TIMEOUT_S); a second one: now.
    log.info("shutting down: draining for up to %.1f s", config.drain_timeout_s)
    drain = asyncio.ensure_future(app.drain())
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, drain.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await drain
    await app.stop()
    log.info("stopped")


def main() -> int:
    configure_logging()
    try:
        config = BridgeConfig.from_env(os.environ)
    except ConfigError as exc:
        print(f"bridge: cannot start: {exc}", file=sys.stderr)
        return 2
    asyncio.run(serve(config))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
