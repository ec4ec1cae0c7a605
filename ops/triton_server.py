"""Build the tritonserver dist from the ``nvidia-pytriton`` wheel and run it.

The wheel bundles a complete ``tritonserver`` (2.51.0, NGC 24.10) with the Python backend. This
module copies it into the project's state folder, puts the backend stub that matches the venv's
Python next to ``libtriton_python.so``, and knows the launch environment the stub needs
(see ``docs/platform.md``). ``TritonServer`` starts and stops one server on chosen ports; the run
command, the tests and the benchmarks all use it.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from common import paths
from common.deploy import DEPLOY_MODES

DIST_DIR = paths.STATE_DIR / "tritonserver"
STUB_NAME = "triton_python_backend_stub"


class TritonError(RuntimeError):
    """The server could not be built, started or reached; the message says why."""


def _site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def build_dist(dist_dir: Path = DIST_DIR) -> Path:
    """Copy the wheel's server into ``dist_dir`` with the stub for this Python (idempotent)."""
    source = _site_packages() / "pytriton" / "tritonserver"
    if not (source / "bin" / "tritonserver").is_file():
        raise TritonError(
            f"no tritonserver in {source}: install nvidia-pytriton==0.7.0 (scripts/setup.sh)"
        )
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = source / "python_backend_stubs" / version / STUB_NAME
    if not stub.is_file():
        raise TritonError(f"nvidia-pytriton ships no Python backend stub for Python {version}")
    marker = dist_dir / ".built-from"
    stamp = f"{source} {stub.stat().st_size} {version}\n"
    if marker.is_file() and marker.read_text() == stamp:
        return dist_dir
    staging = dist_dir.with_name(dist_dir.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging, ignore=shutil.ignore_patterns("python_backend_stubs"))
    shutil.copy2(stub, staging / "backends" / "python" / STUB_NAME)
    _link_client_libraries(staging / "lib")
    marker_tmp = staging / ".built-from"
    marker_tmp.write_text(stamp)
    shutil.rmtree(dist_dir, ignore_errors=True)
    staging.rename(dist_dir)
    return dist_dir


def _link_client_libraries(lib_dir: Path) -> None:
    """Expose the wheel's vendored libb64/libcudart under the sonames perf_analyzer asks for."""
    lib_dir.mkdir(parents=True, exist_ok=True)
    vendored = _site_packages() / "nvidia_pytriton.libs"
    wanted = {"libb64-": "libb64.so.0d", "libcudart-": "libcudart.so.12"}
    for candidate in sorted(vendored.glob("*.so*")):
        for prefix, soname in wanted.items():
            if candidate.name.startswith(prefix):
                target = lib_dir / soname
                with contextlib.suppress(FileNotFoundError):
                    target.unlink()
                target.symlink_to(candidate)


def launch_env(base: Mapping[str, str] | None = None, dist_dir: Path = DIST_DIR) -> dict[str, str]:
    """Environment for tritonserver and its Python stubs (and for perf_analyzer)."""
    env = dict(os.environ if base is None else base)
    venv_bin = str(Path(sys.executable).parent)
    libdir = sysconfig.get_config_var("LIBDIR") or ""
    # Without the venv Python's LIBDIR the stub loads the system libpython against this stdlib.
    lib_path = [str(_site_packages() / "nvidia_pytriton.libs"), libdir, str(dist_dir / "lib")]
    if env.get("LD_LIBRARY_PATH"):
        lib_path.append(env["LD_LIBRARY_PATH"])
    env["LD_LIBRARY_PATH"] = ":".join(p for p in lib_path if p)
    # The stub's embedded interpreter finds the venv through PATH (PYTHONPATH is ignored).
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    cache = paths.CACHE_DIR
    defaults = {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "VLLM_NO_USAGE_STATS": "1",
        "DO_NOT_TRACK": "1",
        "VLLM_HOST_IP": "127.0.0.1",
        "GLOO_SOCKET_IFNAME": "lo",
        "VLLM_CACHE_ROOT": str(cache / "vllm"),
        "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
        "VLLM_RPC_BASE_PATH": str(cache / "rpc"),
        "TMPDIR": str(cache / "tmp"),
        "YAP_REPO_ROOT": str(paths.REPO_ROOT),
        "YAP_PYTHON": sys.executable,
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    for key in ("VLLM_CACHE_ROOT", "TORCHINDUCTOR_CACHE_DIR", "VLLM_RPC_BASE_PATH", "TMPDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


def die_with_parent() -> None:
    """In a child before exec: get SIGTERM when the parent dies (Linux), so that a supervisor
    killed with SIGKILL leaves no server behind. Does nothing where prctl is missing."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


_LOWEST_PORT = 10000  # below this: ports that system services tend to own
_HANDED_OUT: set[int] = set()


def _ephemeral_ports() -> tuple[int, int]:
    """The range the kernel assigns ports from on its own (bind to 0, outgoing connections)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[:2]
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port on 127.0.0.1 that is free now and that no other process is given by chance.

    A port found by binding to 0 comes from the kernel's ephemeral range, which every
    outgoing connection and every other bind to 0 (vLLM's internal sockets, gRPC channels)
    draw from as well: between this check and the server's own bind one of them can take it
    ("address already in use"). So the port is picked at random below that range, where the
    kernel never assigns one itself, and never twice by this process.
    """
    low, _high = _ephemeral_ports()
    if low - _LOWEST_PORT >= 1000:
        rng = random.SystemRandom()
        for _ in range(200):
            port = rng.randrange(_LOWEST_PORT, low)
            if port not in _HANDED_OUT and _bindable(port):
                _HANDED_OUT.add(port)
                return port
    with socket.socket() as sock:  # an unusual port range: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TritonServer:
    """One tritonserver process on its own ports, serving ``model_repository``.

    ``models`` are loaded explicitly (``--model-control-mode=explicit``); use ``DEPLOY_MODES``
    for a deploy mode. The server log goes to ``log_path`` so that a failing test can show it.
    """

    models: Iterable[str] = DEPLOY_MODES["both"]
    repository: Path = paths.MODEL_REPOSITORY
    http_port: int = 0
    grpc_port: int = 0
    metrics_port: int = 0
    log_path: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()
    host: str = "127.0.0.1"  # gRPC and HTTP bind here: loopback unless told otherwise
    metrics_host: str = ""  # default: ``host``
    exit_timeout_s: int = 15
    process: subprocess.Popen[bytes] | None = None
    launches: int = 0

    def __post_init__(self) -> None:
        self.models = tuple(self.models)
        self.http_port = self.http_port or free_port()
        self.grpc_port = self.grpc_port or free_port()
        self.metrics_port = self.metrics_port or free_port()
        if self.log_path is None:
            self.log_path = paths.STATE_DIR / "logs" / f"tritonserver-{self.grpc_port}.log"

    @property
    def grpc_url(self) -> str:
        return f"{self.host}:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.host}:{self.metrics_port}/metrics"

    def command(self) -> list[str]:
        # The GPU image has NVIDIA's own server in /opt/tritonserver (YAP_TRITON_DIST).
        dist = (
            Path(os.environ["YAP_TRITON_DIST"])
            if os.environ.get("YAP_TRITON_DIST")
            else build_dist()
        )
        args = [
            str(dist / "bin" / "tritonserver"),
            f"--model-repository={self.repository}",
            f"--backend-directory={dist / 'backends'}",
            f"--cache-directory={dist / 'caches'}",
            f"--http-port={self.http_port}",
            f"--grpc-port={self.grpc_port}",
            f"--metrics-port={self.metrics_port}",
            f"--http-address={self.host}",
            f"--grpc-address={self.host}",
            f"--metrics-address={self.metrics_host or self.host}",
            "--allow-metrics=true",
            "--allow-gpu-metrics=false",
            "--allow-cpu-metrics=true",
            "--model-control-mode=explicit",
            f"--exit-timeout-secs={self.exit_timeout_s}",
            "--log-info=true",
        ]
        args += [f"--load-model={name}" for name in self.models]
        return args + list(self.extra_args)

    def start(self, timeout_s: float = 300.0) -> TritonServer:
        self.launch()
        self.wait_ready(timeout_s)
        return self

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the process and return at once (``is_ready`` says when it serves)."""
        assert self.log_path is not None
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = launch_env({**os.environ, **self.env})
        env.pop("TEXT_API_KEY", None)  # the bridge's secret; no model needs it
        # A restart appends, so the log still shows why the previous process died.
        log = self.log_path.open("ab" if self.launches else "wb")
        self.launches += 1
        self.process = subprocess.Popen(
            self.command(),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # its own process group: stop() kills stubs and engines too
            preexec_fn=die_with_parent,
        )
        log.close()
        return self.process

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise TritonError(
                    f"tritonserver exited with {self.process.returncode} while starting; "
                    f"log tail:\n{self.log_tail()}"
                )
            if self.is_ready():
                return
            time.sleep(0.25)
        self.stop()
        raise TritonError(
            f"tritonserver not ready after {timeout_s:.0f} s; log:\n{self.log_tail()}"
        )

    def is_ready(self) -> bool:
        """Models ready and the metrics endpoint up (it starts a moment after HTTP/gRPC)."""
        try:
            with urllib.request.urlopen(f"{self.http_url}/v2/health/ready", timeout=2) as reply:
                if reply.status != 200:
                    return False
            with urllib.request.urlopen(self.metrics_url, timeout=2) as reply:
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self, lines: int = 80) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM tritonserver so it unloads its models (the chat model stops vLLM), then make
        sure nothing of its process group (stubs, vLLM engine processes) is left behind."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@contextlib.contextmanager
def running(models: Iterable[str], **kwargs: object) -> Iterator[TritonServer]:
    server = TritonServer(models=models, **kwargs)  # type: ignore[arg-type]
    with server:
        yield server


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="tritonserver dist for this project")
    parser.add_argument("command", choices=["build", "command"])
    parser.add_argument("--mode", choices=sorted(DEPLOY_MODES), default="both")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build_dist())
    else:
        print(" ".join(TritonServer(models=DEPLOY_MODES[args.mode]).command()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
