"""The run command's supervisor: tritonserver with the deploy mode's models, then the bridge.

``python -m serving.stack`` (what ``scripts/serve.sh`` runs) starts Triton on its usual ports
(gRPC 8001, metrics 8002; HTTP 8090 because the bridge takes 8000), waits until the models are
ready, starts the bridge on 8000 and stops both on Ctrl-C / SIGTERM. A chat model asked for as
``QUANTIZATION=4bit|8bit`` that is still float is exported first (cached for later starts).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from serving import paths
from serving.triton_server import DEPLOY_MODES, TritonServer, free_port


@dataclass
class BridgeProcess:
    """``python -m bridge`` as a child process (the tests use the in-process app instead)."""

    env: Mapping[str, str]
    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path = field(default_factory=lambda: paths.STATE_DIR / "logs" / "bridge.log")
    process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> BridgeProcess:
        self.port = self.port or free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "BRIDGE_HOST": self.host, "BRIDGE_PORT": str(self.port)}
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bridge"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the bridge exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                urllib.request.urlopen(f"http://{self.host}:{self.port}/healthz", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self  # up, Triton maybe not ready yet (503)
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the bridge did not start in {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"[serve] {name}={raw!r} is not a port number")


def prepare_chat_model(env: dict[str, str]) -> None:
    """QUANTIZATION=4bit|8bit on a float checkpoint: export it once, then serve the export."""
    wanted = env.get("QUANTIZATION", "auto").strip().lower()
    if wanted not in {"4bit", "8bit"}:
        return
    from quantize import detect

    model = Path(env.get("CHAT_MODEL") or paths.EMBEDDED_CHAT_DIR)
    if not model.is_dir():
        sys.exit(f"[serve] CHAT_MODEL={model} is not a folder")
    if detect.detect(model).is_quantized:
        return  # served as it is; the chat model checks that it matches the request
    from quantize.cache import ensure_export
    from quantize.export import ExportError
    from quantize.schemes import SchemeError

    try:
        export = ensure_export(model, wanted)
    except (ExportError, SchemeError) as exc:
        sys.exit(f"[serve] cannot make the {wanted} export of {model}: {exc}")
    print(f"[serve] serving the {wanted} export {export}", flush=True)
    env["CHAT_MODEL"] = str(export)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=sorted(DEPLOY_MODES),
        default=None,
        help="deploy mode (default: DEPLOY_MODELS or both)",
    )
    parser.add_argument(
        "--triton-only", action="store_true", help="serve Triton without the bridge"
    )
    args = parser.parse_args(argv)
    mode = (args.mode or os.environ.get("DEPLOY_MODELS") or "both").strip().lower()
    if mode not in DEPLOY_MODES:
        sys.exit(f"[serve] DEPLOY_MODELS={mode!r}: expected one of both, chat, tool")
    env = dict(os.environ)
    env["DEPLOY_MODELS"] = mode
    if mode != "tool":
        prepare_chat_model(env)
    host = env.get("TRITON_HOST", "127.0.0.1")
    triton = TritonServer(
        models=DEPLOY_MODES[mode],
        host=host,
        http_port=_env_port("TRITON_HTTP_PORT", 8090),
        grpc_port=_env_port("TRITON_GRPC_PORT", 8001),
        metrics_port=_env_port("TRITON_METRICS_PORT", 8002),
        env=env,
    )
    print(
        f"[serve] starting tritonserver ({mode}: {', '.join(DEPLOY_MODES[mode])}); "
        f"log {triton.log_path}",
        flush=True,
    )
    started = time.monotonic()
    triton.start(timeout_s=900)
    print(
        f"[serve] triton ready in {time.monotonic() - started:.1f} s: grpc {triton.grpc_url}, "
        f"http {triton.http_url}, metrics {triton.metrics_url}",
        flush=True,
    )
    bridge: BridgeProcess | None = None
    try:
        if not args.triton_only:
            if not env.get("TEXT_API_KEY"):
                env["TEXT_API_KEY"] = secrets.token_urlsafe(18)
                print(
                    f"[serve] TEXT_API_KEY was not set; generated one: {env['TEXT_API_KEY']}",
                    flush=True,
                )
            env.setdefault("MAX_CONCURRENT_CONNECTIONS", "24")
            env["TRITON_GRPC_URL"] = triton.grpc_url
            bridge = BridgeProcess(
                env=env,
                host=env.get("BRIDGE_HOST", "0.0.0.0"),
                port=_env_port("BRIDGE_PORT", 8000),
                log_path=paths.STATE_DIR / "logs" / "bridge.log",
            )
            bridge.start()
            print(
                f"[serve] bridge ready: ws://localhost:{bridge.port}/ws?api_key=<TEXT_API_KEY> "
                f"(health http://localhost:{bridge.port}/healthz, metrics /metrics); "
                f"log {bridge.log_path}",
                flush=True,
            )
            print(
                "[serve] try it: .venv/bin/python -m bridge.cli "
                f"--url ws://localhost:{bridge.port}/ws --api-key $TEXT_API_KEY",
                flush=True,
            )
        else:
            print("[serve] serving Triton only (--triton-only)", flush=True)
        stop = {"now": False}

        def request_stop(*_: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stop["now"]:
            if triton.process is None or triton.process.poll() is not None:
                print(f"[serve] tritonserver exited; log tail:\n{triton.log_tail()}", flush=True)
                return 1
            if bridge is not None and (bridge.process is None or bridge.process.poll() is not None):
                print(f"[serve] bridge exited; log tail:\n{bridge.log_tail()}", flush=True)
                return 1
            time.sleep(0.5)
        print("[serve] stopping", flush=True)
        return 0
    finally:
        if bridge is not None:
            bridge.stop()
        with contextlib.suppress(Exception):
            triton.stop()


if __name__ == "__main__":
    raise SystemExit(main())
