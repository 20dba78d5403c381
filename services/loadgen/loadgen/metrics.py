"""The generator's Prometheus exposition, built at scrape time from its own counters (nothing on
the request path touches prometheus-client)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from loadgen.generator import Generator

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GeneratorCollector(Collector):
    """Counters, the latency histogram and the last whole second's figures of one Generator."""

    def __init__(self, gen: Generator):
        self.gen = gen

    def collect(self) -> Iterator[Metric]:
        gen, stats = self.gen, self.gen.stats
        requests = CounterMetricFamily("loadgen_requests", "Requests ended, by route and outcome "
                                       "(HTTP status, timeout, error, missed).", labels=["route", "outcome"])
        for (route, outcome), n in sorted(stats.totals.items()):
            requests.add_metric([route, outcome], n)
        yield requests
        yield CounterMetricFamily("loadgen_issued", "Requests sent on schedule.", value=stats.issued_total)
        latency = HistogramMetricFamily("loadgen_latency_seconds", "Latency from the scheduled start to the "
                                        "end of the response (or the timeout), by route.", labels=["route"])
        for route, hist in sorted(stats.latency_by_route.items()):
            cumulative = hist.cumulative(BUCKETS)
            buckets = [(str(b), c) for b, c in zip(BUCKETS, cumulative)] + [("+Inf", hist.total)]
            latency.add_metric([route], buckets, hist.sum)
        yield latency
        now = time.monotonic()
        yield GaugeMetricFamily("loadgen_target_rate", "Target requests per second now.", value=gen.current_rate(now))
        last = stats.last(1, now + gen.wall_offset)
        yield GaugeMetricFamily("loadgen_achieved_rate", "Requests sent in the last whole second.",
                                value=last[-1].issued if last else 0)
        yield GaugeMetricFamily("loadgen_schedule_lag_seconds", "How late the generator sent its latest request "
                                "in the last whole second (large: the generator itself is saturated).",
                                value=last[-1].lag_max if last else 0.0)
        q = GaugeMetricFamily("loadgen_last_second_latency_seconds", "Latency percentiles of the last whole "
                              "second.", labels=["quantile"])
        if last and last[-1].latency.total:
            for name, p in (("0.5", 50), ("0.9", 90), ("0.99", 99), ("1", 100)):
                value = last[-1].latency.max if p == 100 else last[-1].latency.percentile(p)
                q.add_metric([name], value or 0.0)
        yield q
        pool = gen.pool
        yield GaugeMetricFamily("loadgen_in_flight", "Requests sent or queued, not yet ended.",
                                value=pool.in_flight if pool else 0)
        yield GaugeMetricFamily("loadgen_connections", "Open connections to the target.",
                                value=pool.open if pool else 0)


def exposition(gen: Generator) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(GeneratorCollector(gen))
    return generate_latest(registry)
