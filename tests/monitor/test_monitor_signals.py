"""SLIs and signals from probe results and samples: pure."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from lab.monitor.scrape import parse_arcade
from lab.monitor.signals import ArcadeSample, DbSample, ProbeResult, probe_sli, signals_of


def test_probe_sli_counts_the_requests_that_ended_in_the_second():
    results = [ProbeResult(99.9, "lobby", True, 0.01, "200")]
    results += [ProbeResult(100.0 + i / 10, "lobby", i % 4 != 0, 0.01 * (i + 1), "200" if i % 4 else "503")
                for i in range(10)]
    sli = probe_sli(results, 100)
    assert (sli.total, sli.ok, sli.availability) == (10, 7, 0.7)
    assert sli.p50 == 0.05 and sli.p95 == 0.1 and sli.max == 0.1
    assert sli.failures == {"lobby:503": 3}
    assert probe_sli(results, 101).availability is None


def test_db_ratio_is_over_the_slots_ordinary_roles_may_use():
    db = DbSample(t=1, by_state={"active": 2, "idle": 7}, ordinary=7, max_connections=10, reserved=3)
    assert db.total == 9 and db.ratio == 1.0
    assert DbSample(t=1, error="timeout").ratio is None


def test_arcade_metrics_parse_and_5xx_rate():
    reg = CollectorRegistry()
    req = Counter("arcade_http_requests", "", ["route", "method", "status"], registry=reg)
    req.labels("lobby", "GET", "200").inc(90)
    req.labels("lobby", "GET", "503").inc(4)
    req.labels("login", "POST", "503").inc(6)
    Gauge("arcade_db_connections_in_use", "", registry=reg).set(3)
    Counter("arcade_db_errors", "", ["sqlstate", "cause"], registry=reg).labels("53300", "too_many_connections").inc(10)
    sample = parse_arcade(generate_latest(reg).decode(), t=10.0)
    assert sample.responses == {"200": 90.0, "503": 10.0}
    assert sample.db_in_use == 3.0 and sample.db_errors == {"too_many_connections": 10.0}
    before = ArcadeSample(t=8.0, responses={"503": 4.0})
    sig = signals_of(probe_sli([], 9), None, sample, before)
    assert sig["arcade_5xx_per_s"] == 3.0 and sig["availability"] is None and sig["db_connections"] is None
