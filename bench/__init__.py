"""Benchmarks: the side-by-side latency comparison, the WebSocket load generator, perf_analyzer."""
