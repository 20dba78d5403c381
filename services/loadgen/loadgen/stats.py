"""Per-second counts by route and outcome, and log-bucketed latency histograms (pure, time as data).

A histogram bucket covers a 2 % band of latency (10 us to ~20 min), so percentiles are exact to
within 2 % at a cost of one `log` per recorded request. Outcomes are HTTP status codes ("200",
"503", ...) or one of `timeout` (no full answer within the request timeout, counted from the
scheduled start), `error` (connection refused or reset) and `missed` (the generator itself fell
more than a timeout behind schedule and gave the request up; it was never sent).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

MIN_S = 1e-5
RATIO = 1.02
_LOG_RATIO = math.log(RATIO)
NBUCKETS = 1024
TIMEOUT, ERROR, MISSED = "timeout", "error", "missed"


def bucket_of(seconds: float) -> int:
    """The histogram bucket of a latency."""
    if seconds <= MIN_S:
        return 0
    return min(NBUCKETS - 1, 1 + int(math.log(seconds / MIN_S) / _LOG_RATIO))


def bucket_upper(index: int) -> float:
    """The upper bound (seconds) of a bucket."""
    return MIN_S * RATIO**index


class Histogram:
    """Latency counts in log buckets, with the exact maximum."""

    __slots__ = ("counts", "total", "max", "sum")

    def __init__(self) -> None:
        self.counts = [0] * NBUCKETS
        self.total = 0
        self.max = 0.0
        self.sum = 0.0

    def record(self, seconds: float, bucket: int | None = None) -> None:
        self.counts[bucket_of(seconds) if bucket is None else bucket] += 1
        self.total += 1
        self.sum += seconds
        if seconds > self.max:
            self.max = seconds

    def merge(self, other: Histogram) -> None:
        counts = self.counts
        for i, n in enumerate(other.counts):
            if n:
                counts[i] += n
        self.total += other.total
        self.sum += other.sum
        self.max = max(self.max, other.max)

    def percentile(self, p: float) -> float | None:
        """The p-th percentile (0-100) in seconds, or None when empty."""
        if not self.total:
            return None
        rank = max(1, math.ceil(self.total * p / 100))
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank:
                return min(bucket_upper(i), self.max)
        return self.max

    def cumulative(self, bounds: tuple[float, ...]) -> list[int]:
        """Counts at or below each bound (for Prometheus buckets; bounded by bucket resolution)."""
        out, seen, i = [], 0, 0
        for bound in bounds:
            while i < NBUCKETS and bucket_upper(i) <= bound * (1 + 1e-9):
                seen += self.counts[i]
                i += 1
            out.append(seen)
        return out


@dataclass
class Second:
    """Everything that happened in one wall-clock second."""

    t: int
    issued: int = 0
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    latency: Histogram = field(default_factory=Histogram)
    lag_max: float = 0.0

    def summary(self) -> dict[str, object]:
        """A JSON-ready view: counts nested by route then outcome, latency percentiles in ms."""
        by_route: dict[str, dict[str, int]] = {}
        for (route, outcome), n in sorted(self.counts.items()):
            by_route.setdefault(route, {})[outcome] = n
        return {
            "t": self.t,
            "issued": self.issued,
            "completed": sum(self.counts.values()),
            "counts": by_route,
            "latency_ms": latency_ms(self.latency),
            "lag_max_ms": round(self.lag_max * 1000, 3),
        }


def latency_ms(hist: Histogram) -> dict[str, float | None]:
    """p50/p90/p99/max of a histogram in milliseconds."""
    def ms(v: float | None) -> float | None:
        return None if v is None else round(v * 1000, 3)

    return {"p50": ms(hist.percentile(50)), "p90": ms(hist.percentile(90)),
            "p99": ms(hist.percentile(99)), "max": ms(hist.max if hist.total else None)}


class Stats:
    """A ring of the last `keep` seconds plus running totals since start."""

    def __init__(self, keep: int = 300):
        self.seconds: deque[Second] = deque(maxlen=keep)
        self.totals: dict[tuple[str, str], int] = {}
        self.issued_total = 0
        self.latency_total = Histogram()
        self.latency_by_route: dict[str, Histogram] = {}

    def _at(self, t: float) -> Second:
        sec = int(t)
        ring = self.seconds
        if ring and ring[-1].t == sec:
            return ring[-1]
        if ring and ring[-1].t > sec:  # a late record of an earlier second: find it if kept
            for s in reversed(ring):
                if s.t == sec:
                    return s
            return ring[-1]
        if ring:  # seconds with nothing in them still count
            gap = min(sec - ring[-1].t - 1, ring.maxlen or 0)
            for quiet in range(sec - gap, sec):
                ring.append(Second(quiet))
        new = Second(sec)
        ring.append(new)
        return new

    def issued(self, t: float, lag: float) -> None:
        """A request left on schedule (lag: how late the generator sent it)."""
        s = self._at(t)
        s.issued += 1
        if lag > s.lag_max:
            s.lag_max = lag
        self.issued_total += 1

    def outcome(self, t: float, route: str, outcome: str, latency: float | None) -> None:
        """A request ended at wall time t (latency from its scheduled start; None if never sent)."""
        s = self._at(t)
        key = (route, outcome)
        s.counts[key] = s.counts.get(key, 0) + 1
        self.totals[key] = self.totals.get(key, 0) + 1
        if latency is not None:
            bucket = bucket_of(latency)
            s.latency.record(latency, bucket)
            self.latency_total.record(latency, bucket)
            route_hist = self.latency_by_route.get(route)
            if route_hist is None:
                route_hist = self.latency_by_route[route] = Histogram()
            route_hist.record(latency, bucket)

    def last(self, n: int, now: float, complete_only: bool = True) -> list[Second]:
        """The last n seconds (only whole seconds before `now` if complete_only)."""
        cut = int(now) if complete_only else int(now) + 1
        return [s for s in self.seconds if s.t < cut][-n:]
