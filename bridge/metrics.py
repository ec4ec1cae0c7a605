"""The bridge's Prometheus metrics, served at ``GET /metrics`` (Triton's own are on its port)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (
    0.005,
    0.01,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    0.75,
    1.0,
    2.0,
    5.0,
    10.0,
)


class BridgeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_connections = Gauge(
            "yap_active_connections", "WebSocket connections holding a capacity slot", registry=r
        )
        self.rejected_connections = Counter(
            "yap_rejected_connections_total",
            "Connections refused, by reason (auth, capacity)",
            ["reason"],
            registry=r,
        )
        self.turns = Counter(
            "yap_turns_total",
            "Turns by kind (start, followup) and outcome",
            ["kind", "outcome"],
            registry=r,
        )
        self.cancels = Counter("yap_cancels_total", "cancel messages handled", registry=r)
        self.barge_ins = Counter(
            "yap_barge_ins_total", "Running turns stopped by a new start on the socket", registry=r
        )
        self.rate_limited = Counter(
            "yap_rate_limited_total", "Messages refused by a rate limiter", ["limiter"], registry=r
        )
        self.errors = Counter(
            "yap_errors_total", "error frames sent, by error_code", ["error_code"], registry=r
        )
        self.tool_timeouts = Counter(
            "yap_tool_timeouts_total", "Tool decisions that timed out (answered no)", registry=r
        )
        self.tool_decision = Histogram(
            "yap_tool_decision_seconds",
            "From the start message to the toolcall frame",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.chat_ttft = Histogram(
            "yap_chat_ttft_seconds",
            "From the start message to the first token frame",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
