"""The one supervisor: tritonserver with the deploy mode's models, then the bridge, kept running.

``python -m ops.stack`` is what ``scripts/serve.sh`` runs and what the container's entry
point runs. In order:

1. every setting (bridge, models of the deploy mode, this supervisor) is checked before anything
   starts; all problems are printed together and it exits 2;
2. ``QUANTIZATION=4bit|8bit`` on a float chat checkpoint: the export is made once (cached);
3. tritonserver starts on loopback (gRPC 8001, HTTP 8090, metrics 8002; ``TRITON_HOST``,
   ``TRITON_METRICS_HOST`` to open them) and its model-loading lines are echoed as they come;
4. the bridge starts on ``BRIDGE_HOST:BRIDGE_PORT`` (0.0.0.0:8000) once Triton is ready.

While serving: when tritonserver dies (or the chat model reports its vLLM engine dead through
the ``yap_chat_engine_healthy`` gauge), its whole process group is killed and it is restarted
with exponential backoff while the bridge stays up (its ``/readyz`` says 503 meanwhile and turns
get ``engine_unavailable``); the bridge reconnects by itself. A bridge that dies is restarted.
A Triton that never became ready is not retried: the supervisor exits 1 with its log.

SIGTERM / Ctrl-C: the bridge drains (running turns finish up to ``DRAIN_TIMEOUT_S``), then
Triton stops and nothing of it (stubs, vLLM engine processes) is left. A second signal stops
at once.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bridge.protocol.config import BridgeConfig
from common import paths
from common.settings import Bool, Float, Int, Setting, Text, resolve
from ops import preflight
from ops.triton_server import DEPLOY_MODES, TritonServer, die_with_parent, free_port

_PORT = Int(0, 65535)
SUPERVISOR_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "TRITON_HOST",
        Text(),
        "127.0.0.1",
        "address Triton's gRPC and HTTP ports bind to; loopback keeps Triton's unauthenticated "
        "inference and model-control APIs private (only the bridge is a public door)",
    ),
    Setting(
        "TRITON_METRICS_HOST",
        Text(),
        "",
        "address of Triton's metrics port (empty: TRITON_HOST; 0.0.0.0 lets Prometheus scrape)",
    ),
    Setting("TRITON_GRPC_PORT", _PORT, 8001, "Triton gRPC port"),
    Setting("TRITON_HTTP_PORT", _PORT, 8090, "Triton HTTP port"),
    Setting("TRITON_METRICS_PORT", _PORT, 8002, "Triton metrics port"),
    Setting(
        "TRITON_START_TIMEOUT_S",
        Float(1.0, 86400.0),
        900.0,
        "seconds Triton may take to load the models (a first start that fails ends the run)",
    ),
    Setting(
        "TRITON_RESTART_BACKOFF_S",
        Float(0.0, 600.0),
        1.0,
        "wait before restarting a tritonserver that died; doubles after each restart that did "
        "not stay up for a minute",
    ),
    Setting(
        "TRITON_RESTART_BACKOFF_MAX_S", Float(0.0, 3600.0), 30.0, "longest wait between restarts"
    ),
    Setting(
        "RESTART_ON_ENGINE_DEAD",
        Bool(),
        True,
        "restart Triton when the chat model reports its vLLM engine dead",
    ),
)
STABLE_AFTER_S = 60.0  # a Triton that served this long resets the backoff
_ECHO = re.compile(
    r"successfully loaded|failed to load|\[chat\] (settings|engine)|error|Traceback|"
    r"Started (GRPC|HTTP)|Exception",
    re.I,
)


def say(text: str) -> None:
    print(f"[serve] {text}", flush=True)


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
            [sys.executable, "-m", "bridge"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the supervisor, which drains the bridge
            preexec_fn=die_with_parent,
        )
        log.close()
        probe = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the bridge exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                urllib.request.urlopen(f"http://{probe}:{self.port}/livez", timeout=2)
                return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"the bridge did not start in {timeout_s:.0f} s:\n{self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (the bridge drains), then SIGKILL after ``timeout_s``."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


class Backoff:
    """Exponential restart delays; a process that stayed up ``STABLE_AFTER_S`` resets them."""

    def __init__(self, initial_s: float, maximum_s: float) -> None:
        self.initial_s = initial_s
        self.maximum_s = max(initial_s, maximum_s)
        self._next = initial_s

    def delay(self, uptime_s: float) -> float:
        if uptime_s >= STABLE_AFTER_S:
            self._next = self.initial_s
        delay, self._next = self._next, min(self.maximum_s, max(self._next * 2, 0.5))
        return delay


def engine_health(metrics_url: str, timeout_s: float = 2.0) -> bool | None:
    """The chat model's ``yap_chat_engine_healthy`` gauge: False when any engine reports dead,
    None when it cannot be read (no chat model, or the metrics endpoint does not answer)."""
    try:
        with urllib.request.urlopen(metrics_url, timeout=timeout_s) as reply:
            body = reply.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError):
        return None
    values = [
        float(line.rpartition(" ")[2])
        for line in body.splitlines()
        if line.startswith("yap_chat_engine_healthy")
    ]
    if not values:
        return None
    return all(value >= 1.0 for value in values)


class Supervisor:
    """Keeps one tritonserver and one bridge running; see the module docstring."""

    def __init__(
        self,
        triton: TritonServer,
        bridge: BridgeProcess | None,
        *,
        start_timeout_s: float,
        backoff: Backoff,
        watch_engine: bool,
        drain_timeout_s: float,
        on_bridge_ready: Callable[[BridgeProcess], None] | None = None,
    ) -> None:
        self.triton = triton
        self.bridge = bridge
        self.start_timeout_s = start_timeout_s
        self.backoff = backoff
        self.watch_engine = watch_engine
        self.drain_timeout_s = drain_timeout_s
        self.on_bridge_ready = on_bridge_ready
        self.signals = 0
        self.restarts = 0
        self._log_offset = 0

    # -- signals -----------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: object) -> None:
        self.signals += 1
        if self.signals > 1:
            say("second signal: stopping now")

    # -- Triton ------------------------------------------------------------------------------
    def _echo_log(self) -> None:
        """Print Triton's model-loading lines as they come (loading is otherwise silent)."""
        path = self.triton.log_path
        if path is None or not path.exists():
            return
        with path.open("rb") as log:
            log.seek(self._log_offset)
            chunk = log.read()
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._log_offset += end + 1
        for raw in chunk[: end + 1].decode("utf-8", "replace").splitlines():
            if _ECHO.search(raw) and "CUDA" not in raw and "NVML" not in raw:
                print(f"[triton] {raw.strip()[:240]}", flush=True)

    def _launch_triton(self) -> float:
        path = self.triton.log_path
        self._log_offset = path.stat().st_size if path is not None and path.exists() else 0
        self.triton.launch()
        return time.monotonic()

    def _wait_ready(self, launched_at: float) -> bool:
        """Until Triton is ready (True), died or timed out (False), or a signal came (False)."""
        last_note = launched_at
        while not self.signals:
            self._echo_log()
            process = self.triton.process
            if process is None or process.poll() is not None:
                code = process.returncode if process is not None else "?"
                say(f"tritonserver exited with {code} while starting")
                return False
            if self.triton.is_ready():
                self._echo_log()
                return True
            now = time.monotonic()
            if now - launched_at > self.start_timeout_s:
                say(f"tritonserver not ready after {self.start_timeout_s:.0f} s")
                return False
            if now - last_note >= 15:
                last_note = now
                say(f"still loading models ({now - launched_at:.0f} s); log {self.triton.log_path}")
            self._keep_bridge()
            time.sleep(0.25)
        return False

    # -- bridge ------------------------------------------------------------------------------
    def _keep_bridge(self) -> None:
        if self.bridge is None or self.bridge.process is None or self.bridge.alive():
            return
        code = self.bridge.process.returncode
        say(f"the bridge exited with {code}; restarting it. Log tail:\n{self.bridge.log_tail(20)}")
        time.sleep(1.0)
        try:
            self.bridge.start()
        except RuntimeError as exc:
            say(f"the bridge failed to restart: {exc}")

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        try:
            return self._serve()
        finally:
            self.shutdown()

    def _serve(self) -> int:
        launched_at = self._launch_triton()
        if not self._wait_ready(launched_at):
            if self.signals:
                return 0
            say(f"tritonserver did not start; log tail:\n{self.triton.log_tail(40)}")
            return 1
        say(
            f"triton ready in {time.monotonic() - launched_at:.1f} s: grpc {self.triton.grpc_url}, "
            f"http {self.triton.http_url}, metrics {self.triton.metrics_url}"
        )
        if self.bridge is not None:
            try:
                self.bridge.start()
            except RuntimeError as exc:
                say(str(exc))
                return 1
            if self.on_bridge_ready is not None:
                self.on_bridge_ready(self.bridge)
        else:
            say("serving Triton only (--triton-only)")
        ready_at = time.monotonic()
        unhealthy = 0
        next_engine_check = ready_at + 1.0
        while not self.signals:
            time.sleep(0.2)
            self._keep_bridge()
            process = self.triton.process
            reason = ""
            if process is None or process.poll() is not None:
                code = process.returncode if process is not None else "?"
                reason = f"tritonserver exited with {code}"
            elif self.watch_engine and time.monotonic() >= next_engine_check:
                next_engine_check = time.monotonic() + 1.0
                healthy = engine_health(self.triton.metrics_url)
                unhealthy = unhealthy + 1 if healthy is False else 0
                if unhealthy >= 2:
                    reason = "the chat model reports its vLLM engine dead"
            if not reason:
                continue
            unhealthy = 0
            ready_at = self._restart(reason, uptime_s=time.monotonic() - ready_at)
            next_engine_check = time.monotonic() + 1.0
        return 0

    def _restart(self, reason: str, uptime_s: float) -> float:
        """Kill what is left of Triton and start it again with backoff, until it is ready."""
        while not self.signals:
            self.restarts += 1
            delay = self.backoff.delay(uptime_s)
            say(
                f"{reason}; restart #{self.restarts} in {delay:.1f} s (the bridge stays up and "
                f"answers engine_unavailable). Log tail:\n{self.triton.log_tail(15)}"
            )
            self.triton.stop(timeout_s=10)
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self.signals:
                self._keep_bridge()
                time.sleep(0.1)
            if self.signals:
                break
            launched_at = self._launch_triton()
            if self._wait_ready(launched_at):
                say(f"triton back in {time.monotonic() - launched_at:.1f} s")
                return time.monotonic()
            reason, uptime_s = "tritonserver failed to start again", 0.0
        return time.monotonic()

    def shutdown(self) -> None:
        say("stopping: draining the bridge, then Triton")
        if self.bridge is not None:
            # A second signal skips the drain; otherwise the bridge gets its drain timeout.
            self.bridge.stop(timeout_s=1.0 if self.signals > 1 else self.drain_timeout_s + 10)
        with contextlib.suppress(Exception):
            self.triton.stop()
        say("stopped")


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
    say(f"serving the {wanted} export {export}")
    env["CHAT_MODEL"] = str(export)


def try_it_line(port: int, generated_key: str | None) -> str:
    """The command a user can paste: the real key when we generated it (the shell has none)."""
    key = shlex.quote(generated_key) if generated_key else '"$TEXT_API_KEY"'
    return f".venv/bin/python -m bridge.cli --url ws://localhost:{port}/ws --api-key {key}"


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
    parser.add_argument(
        "--check", action="store_true", help="check every setting, print the result and exit"
    )
    args = parser.parse_args(argv)
    mode = (args.mode or os.environ.get("DEPLOY_MODELS") or "both").strip().lower()
    if mode not in DEPLOY_MODES:
        say(f"DEPLOY_MODELS={mode!r}: expected one of both, chat, tool")
        return 2
    env = dict(os.environ)
    env["DEPLOY_MODELS"] = mode
    generated_key: str | None = None
    if not args.triton_only:
        if not env.get("TEXT_API_KEY"):
            generated_key = env["TEXT_API_KEY"] = secrets.token_urlsafe(18)
        env.setdefault("MAX_CONCURRENT_CONNECTIONS", "24")
    problems = preflight.check(
        env, mode=mode, bridge=not args.triton_only, supervisor=SUPERVISOR_SETTINGS
    )
    if problems:
        say("cannot start; fix these settings first:")
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr, flush=True)
        return 2
    if args.check:
        say(f"settings OK for DEPLOY_MODELS={mode}")
        return 0
    settings = resolve(SUPERVISOR_SETTINGS, {}, env, model_name="supervisor")
    if mode != "tool":
        prepare_chat_model(env)
    triton = TritonServer(
        models=DEPLOY_MODES[mode],
        host=settings["triton_host"],
        metrics_host=settings["triton_metrics_host"],
        http_port=settings["triton_http_port"],
        grpc_port=settings["triton_grpc_port"],
        metrics_port=settings["triton_metrics_port"],
        env=env,
    )
    bridge: BridgeProcess | None = None
    bridge_config: BridgeConfig | None = None
    if not args.triton_only:
        reach = "127.0.0.1" if triton.host in ("0.0.0.0", "::", "") else triton.host
        env["TRITON_GRPC_URL"] = env.get("TRITON_GRPC_URL") or f"{reach}:{triton.grpc_port}"
        bridge_config = BridgeConfig.from_env(env)
        port = bridge_config.bridge_port
        bridge = BridgeProcess(
            env=env,
            host=bridge_config.bridge_host,
            port=port,
            log_path=paths.STATE_DIR
            / "logs"
            / ("bridge.log" if port == 8000 else f"bridge-{port}.log"),
        )

    def announce(ready: BridgeProcess) -> None:
        say(
            f"bridge ready: ws://localhost:{ready.port}/ws (probes /livez /readyz /healthz, "
            f"metrics /metrics); log {ready.log_path}"
        )
        if generated_key:
            say(f"TEXT_API_KEY was not set; generated one: {generated_key}")
        say(f"try it: {try_it_line(ready.port, generated_key)}")

    say(
        f"starting tritonserver ({mode}: {', '.join(DEPLOY_MODES[mode])}); model loading takes "
        f"~25-90 s, progress below; log {triton.log_path}"
    )
    drain_s = bridge_config.drain_timeout_s if bridge_config is not None else 0.0
    supervisor = Supervisor(
        triton,
        bridge,
        start_timeout_s=settings["triton_start_timeout_s"],
        backoff=Backoff(
            settings["triton_restart_backoff_s"], settings["triton_restart_backoff_max_s"]
        ),
        watch_engine=mode != "tool" and settings["restart_on_engine_dead"],
        drain_timeout_s=drain_s,
        on_bridge_ready=announce,
    )
    return supervisor.run()


if __name__ == "__main__":
    raise SystemExit(main())
