"""SLIs and the signals alert rules read, as pure functions of samples (time passed in as data).

    probe results ─▶ ProbeSli (per second: availability, p50/p95/p99/max latency)
    pg_stat_activity sample ─▶ DbSample ─┐
    Arcade /metrics scrape ─▶ ArcadeSample ─┴─▶ signals {name: value or None}
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

SIGNALS = (
    "availability",          # share of probe requests that succeeded this second (0-1)
    "latency_p50_s",
    "latency_p95_s",
    "latency_p99_s",
    "db_connections",        # client backends, every role
    "db_connections_ratio",  # ordinary roles' backends / (max_connections - superuser_reserved_connections)
    "arcade_5xx_per_s",      # Arcade's own count of 5xx answers in the last second
)


@dataclass(frozen=True)
class ProbeResult:
    """One probe request: when it ended (unix time), which step, success, latency, outcome."""

    t: float
    step: str
    ok: bool
    latency: float
    outcome: str  # HTTP status, "timeout", "error" or "busy"


@dataclass(frozen=True)
class ProbeSli:
    """The probe's view of one second."""

    t: int
    total: int
    ok: int
    availability: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    failures: dict[str, int] = field(default_factory=dict)


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(len(sorted_values) * p / 100))
    return sorted_values[rank - 1]


def probe_sli(results: Iterable[ProbeResult], second: int) -> ProbeSli:
    """Availability and latency of the probe requests that ended within [second, second + 1)."""
    inside = [r for r in results if second <= r.t < second + 1]
    lat = sorted(r.latency for r in inside)
    ok = sum(1 for r in inside if r.ok)
    failures: dict[str, int] = {}
    for r in inside:
        if not r.ok:
            key = f"{r.step}:{r.outcome}"
            failures[key] = failures.get(key, 0) + 1
    return ProbeSli(
        t=second, total=len(inside), ok=ok,
        availability=ok / len(inside) if inside else None,
        p50=percentile(lat, 50), p95=percentile(lat, 95), p99=percentile(lat, 99),
        max=lat[-1] if lat else None, failures=failures,
    )


@dataclass(frozen=True)
class DbSample:
    """pg_stat_activity at one moment, or why it could not be read."""

    t: float
    error: str | None = None
    by_state: dict[str, int] = field(default_factory=dict)
    ordinary: int = 0  # client backends of roles that are not superusers
    max_connections: int | None = None
    reserved: int | None = None

    @property
    def total(self) -> int:
        return sum(self.by_state.values())

    @property
    def ratio(self) -> float | None:
        """Share of the slots ordinary roles may use that are taken (1.0: the next one is refused)."""
        if self.error or not self.max_connections or self.reserved is None:
            return None
        usable = self.max_connections - self.reserved
        return self.ordinary / usable if usable > 0 else None


@dataclass(frozen=True)
class ArcadeSample:
    """What Arcade's /metrics said at one moment (counters are totals since its start)."""

    t: float
    error: str | None = None
    responses: dict[str, float] = field(default_factory=dict)  # status -> total
    db_in_use: float | None = None
    db_waiting: float | None = None
    db_errors: dict[str, float] = field(default_factory=dict)  # cause -> total


def five_xx_rate(prev: ArcadeSample | None, cur: ArcadeSample | None) -> float | None:
    """5xx answers per second between two scrapes (None without two good scrapes; a counter reset
    counts from zero)."""
    if prev is None or cur is None or prev.error or cur.error or cur.t <= prev.t:
        return None
    now = sum(v for k, v in cur.responses.items() if k.startswith("5"))
    before = sum(v for k, v in prev.responses.items() if k.startswith("5"))
    delta = now - before if now >= before else now
    return delta / (cur.t - prev.t)


def signals_of(
    probe: ProbeSli, db: DbSample | None, arcade: ArcadeSample | None, prev_arcade: ArcadeSample | None = None
) -> dict[str, float | None]:
    """The values alert rules read for one second (None where there is no data)."""
    db_ok = db is not None and db.error is None
    return {
        "availability": probe.availability,
        "latency_p50_s": probe.p50,
        "latency_p95_s": probe.p95,
        "latency_p99_s": probe.p99,
        "db_connections": float(db.total) if db_ok and db is not None else None,
        "db_connections_ratio": db.ratio if db is not None else None,
        "arcade_5xx_per_s": five_xx_rate(prev_arcade, arcade),
    }
