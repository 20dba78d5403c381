"""Arcade's Prometheus metrics, in one process or aggregated across gunicorn workers.

When PROMETHEUS_MULTIPROC_DIR is set (before prometheus_client is imported) every worker writes
its values there and /metrics reads them all; gauges are summed over live workers (`livesum`).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REGISTRY = CollectorRegistry()

HTTP_REQUESTS = Counter(
    "arcade_http_requests_total",
    "HTTP requests answered, by URL rule, method and status.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "arcade_http_request_duration_seconds",
    "Time to answer an HTTP request, by URL rule.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
DB_IN_USE = Gauge(
    "arcade_db_connections_in_use",
    "Database connections currently held by requests.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_WAITING = Gauge(
    "arcade_db_connections_waiting",
    "Requests waiting for a free pooled database connection.",
    multiprocess_mode="livesum",
    registry=REGISTRY,
)
DB_ERRORS = Counter(
    "arcade_db_errors_total",
    "Requests answered 503 because of the database, by SQLSTATE ('none' if unknown) and cause.",
    ["sqlstate", "cause"],
    registry=REGISTRY,
)


def exposition() -> tuple[bytes, str]:
    """The metrics text and its content type, aggregated over workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
