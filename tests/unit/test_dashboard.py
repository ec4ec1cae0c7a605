"""The Grafana dashboard only queries metrics that the bridge and the chat model export."""

from __future__ import annotations

import json
import re

from bridge.metrics import BridgeMetrics
from common import paths
from serving.chat.metrics import SPECS

DASHBOARD = paths.REPO_ROOT / "docker" / "grafana" / "yap-dashboard.json"
TRITON_OWN = {
    "nv_inference_queue_duration_us",
    "nv_inference_request_success",
    "nv_inference_compute_infer_duration_us",
    "nv_inference_exec_count",
}


def exported_names() -> set[str]:
    names = set(SPECS) | TRITON_OWN
    for metric in BridgeMetrics().registry.collect():
        names |= {metric.name, f"{metric.name}_total", f"{metric.name}_bucket"}
    names |= {f"{name}_bucket" for name, spec in SPECS.items() if spec.buckets}
    return names


def test_every_dashboard_query_uses_an_exported_metric() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for e in exprs for m in re.findall(r"\b(?:yap_\w+|vllm:\w+|nv_\w+)", e)}
    known = exported_names()
    missing = sorted(u for u in used if u not in known)
    assert not missing, f"dashboard queries unknown metrics: {missing}"
    assert len(dashboard["panels"]) >= 8
