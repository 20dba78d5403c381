"""Prometheus metrics, as Toxiproxy's ``-proxy-metrics`` / ``-runtime-metrics`` flags give them.

Proxy metrics: ``toxiproxy_proxy_received_bytes_total`` and ``..._sent_bytes_total`` labelled
direction, proxy, listener, upstream; like Toxiproxy's they grow when a link ends. Runtime
metrics are this process's (process_*, python_gc_*, python_info) instead of Go's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, GCCollector, PlatformCollector, ProcessCollector

if TYPE_CHECKING:  # pragma: no cover
    from lab.proxy.proxy import Proxy

LABELS = ["direction", "proxy", "listener", "upstream"]


class Metrics:
    """A private registry with the metrics asked for."""

    def __init__(self, proxy_metrics: bool, runtime_metrics: bool) -> None:
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        self.received: Counter | None = None
        self.sent: Counter | None = None
        if proxy_metrics:
            self.received = Counter(
                "toxiproxy_proxy_received_bytes", "Bytes read by a proxy's links.", LABELS, registry=self.registry
            )
            self.sent = Counter(
                "toxiproxy_proxy_sent_bytes", "Bytes written by a proxy's links.", LABELS, registry=self.registry
            )
        if runtime_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def link_ended(self, proxy: "Proxy", direction: str, received: int, sent: int) -> None:
        if self.received is None or self.sent is None:
            return
        labels = (direction, proxy.name, proxy.listen, proxy.upstream)
        self.received.labels(*labels).inc(received)
        self.sent.labels(*labels).inc(sent)

    def render(self) -> tuple[bytes, str]:
        return prometheus_client.generate_latest(self.registry), prometheus_client.CONTENT_TYPE_LATEST
