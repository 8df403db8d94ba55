"""The metric names we emit, registered in one place (does I/O: serves /metrics).

A test checks that the code base emits no `newsflow_*` name missing from METRICS
(socorro's registered-metrics idea). Worker children write to a shared directory
(prometheus_client's multiprocess mode); the worker's main process serves the sum,
plus queue depths read from Redis at scrape time.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily

METRICS = {
    "newsflow_documents_total": "documents that finished a stage, by stage and outcome",
    "newsflow_stage_seconds": "time spent in each pipeline stage",
    "newsflow_failures_total": "inputs that failed for good, by task and error type",
    "newsflow_retries_total": "task retries after a transient fault, by task",
    "newsflow_queue_depth": "messages waiting in each queue (read from Redis at scrape time)",
}

DOCUMENTS = Counter("newsflow_documents", METRICS["newsflow_documents_total"], ["stage", "outcome"])
STAGE_SECONDS = Histogram(
    "newsflow_stage_seconds",
    METRICS["newsflow_stage_seconds"],
    ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FAILURES = Counter("newsflow_failures", METRICS["newsflow_failures_total"], ["task", "error"])
RETRIES = Counter("newsflow_retries", METRICS["newsflow_retries_total"], ["task"])


class QueueDepthCollector:
    """newsflow_queue_depth{queue}: LLEN of each queue at scrape time."""

    def __init__(self, redis_client: Any, queues: tuple[str, ...]) -> None:
        self.redis = redis_client
        self.queues = queues

    def collect(self) -> Any:
        gauge = GaugeMetricFamily("newsflow_queue_depth", METRICS["newsflow_queue_depth"], labels=["queue"])
        for queue in self.queues:
            gauge.add_metric([queue], float(self.redis.llen(queue)))
        yield gauge


def observe_history(history: Any) -> None:
    """Count and time every stage a document went through (from its history)."""
    for step in history:
        DOCUMENTS.labels(step.stage, "ok").inc()
        STAGE_SECONDS.labels(step.stage).observe(step.ms / 1000)


def serve(port: int, redis_client: Any, queues: tuple[str, ...]) -> None:
    """Serve /metrics on `port`: every child's counters plus the queue depths."""
    from prometheus_client import multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(QueueDepthCollector(redis_client, queues))
    start_http_server(port, registry=registry)
