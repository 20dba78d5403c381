"""The monitor against the real stack: a March-2023-style surge fires and resolves
SiteAvailabilityLow; the probe agrees with an independent client; a paused database never
stalls it; the CLI."""

from __future__ import annotations

import json
import math
import time

import pytest

from lab.monitor.events import JsonlSink, read_events
from lab.monitor.load import LoadControl
from lab.monitor.monitor import MonitorConfig, watching
from lab.monitor.probe import ProbeConfig
from lab.monitor.rules import apply_overrides, default_rules

pytestmark = pytest.mark.integration

FAST = apply_overrides(default_rules(), {name: {"for": 2} for name in
                                         ("SiteAvailabilityLow", "SiteLatencyHigh", "DbConnectionsSaturated")})


def _loadgen_availability(address: str, start: float, end: float) -> tuple[float, int]:
    """The generator's own count (an independent client): share of 2xx among requests that ended
    in whole seconds within [start, end)."""
    import urllib.request

    with urllib.request.urlopen(f"http://{address}/stats?seconds=120", timeout=5) as resp:
        seconds = json.loads(resp.read())["seconds"]
    ok = total = 0
    for s in seconds:
        if start <= s["t"] and s["t"] + 1 <= end:
            for counts in s["counts"].values():
                for outcome, n in counts.items():
                    total += n
                    ok += n if outcome.startswith("2") else 0
    return (ok / total if total else float("nan")), total


def _control(address: str, body: dict) -> dict:
    import urllib.request

    req = urllib.request.Request(f"http://{address}/rate", data=json.dumps(body).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.cpu_slot
def test_a_surge_fires_and_resolves_site_availability_low(make_stack, tmp_path):
    """Traffic ramps up until the site breaks (wherever this machine's capacity is), holds there,
    then stops: the alert fires within 10 s of the breach and resolves after recovery."""
    stack = make_stack("loadgen.enabled=true", "web.access_mode=per-request", "db.max_connections=10",
                       "web.threads=16")
    load = LoadControl(stack.address("loadgen"))
    sink = JsonlSink(tmp_path / "alerts.jsonl")
    # the probe's timeout is the generator's (5 s), so "failed" means the same to both counts
    config = MonitorConfig(probe=ProbeConfig(rate=5.0, timeout_s=5.0, max_journeys=64), rules=FAST)
    with watching(stack, config, sink) as mon:
        assert _wait_for(lambda: len(mon.ticks()) >= 3, 10)
        surge_at = time.time()
        load.set(40, "ramp", to=400, over=20)

        def fired() -> bool:
            return any(e.kind == "alert.firing" and e.alert == "SiteAvailabilityLow" for e in mon.events())

        assert _wait_for(fired, 30), [(t.t, t.probe.availability) for t in mon.ticks()]
        held = load.set(load.state().current_rate)  # hold the surge where it broke the site
        time.sleep(8)
        calm_at = time.time()
        load.set(0)

        def resolved() -> bool:
            return any(e.kind == "alert.resolved" and e.alert == "SiteAvailabilityLow" for e in mon.events())

        assert _wait_for(resolved, 30), [(t.t, t.probe.availability) for t in mon.ticks()]
        ticks = mon.ticks()
        independent, n = _loadgen_availability(stack.address("loadgen"), surge_at + 1, calm_at)
    before = [t for t in ticks if t.t + 1 <= surge_at and t.probe.total]
    assert before and all(t.probe.availability == 1.0 for t in before)
    breach = next(t.t for t in ticks if t.t >= int(surge_at) and t.probe.availability is not None
                  and t.probe.availability < 0.99)
    firing = next(e for e in read_events(sink.path) if e["kind"] == "alert.firing" and e["alert"] == "SiteAvailabilityLow")
    assert firing["t"] - breach <= 10 + 1  # the breach second ends 1 s after its label
    resolved_event = next(e for e in read_events(sink.path)
                          if e["kind"] == "alert.resolved" and e["alert"] == "SiteAvailabilityLow")
    assert resolved_event["t"] > calm_at
    window = [t for t in ticks if surge_at + 1 <= t.t and t.t + 1 <= calm_at]  # the ramp and the hold
    sampled = sum(t.probe.total for t in window)
    probe = sum(t.probe.ok for t in window) / max(1, sampled)
    print(f"breach at {held.params['rate']:.0f} req/s +{breach - surge_at:.1f} s, fired +{firing['t'] - breach:.1f} s "
          f"after it, resolved +{resolved_event['t'] - calm_at:.1f} s after calm; availability probe {probe:.3f} "
          f"({sampled} requests), generator {independent:.3f} ({n} requests)")
    # Within 20 points, or the probe's own sampling error (3 sigma) if that is wider. Under this
    # overload the probe reads 5-14 points higher than the generator on this machine (measured
    # over nine runs, the code of both unchanged): its journeys mix routes unlike the
    # generator's, and the lighter ones fail less. The README lists this.
    allowed = max(0.20, 3 * math.sqrt(independent * (1 - independent) / max(1, sampled)))
    assert n >= 300 and sampled >= 30 and abs(probe - independent) <= allowed, (probe, independent, sampled, n)


def test_it_keeps_ticking_while_the_database_and_then_the_site_are_frozen(make_stack):
    stack = make_stack()
    config = MonitorConfig(probe=ProbeConfig(rate=2.0, timeout_s=1.0), rules=FAST)
    with watching(stack, config) as mon:
        assert _wait_for(lambda: len(mon.ticks()) >= 2, 10)
        assert mon.ticks()[-1].db.error is None and mon.ticks()[-1].db.max_connections == 40
        db, web = stack.service("db"), stack.service("web")
        db.pause()
        paused_at = time.time()
        try:
            assert _wait_for(lambda: len([t for t in mon.ticks() if t.t >= paused_at + 1]) >= 3, 8)
            web.pause()  # Arcade frozen too: its /metrics and every probe request hang
            frozen_at = time.time()
            assert _wait_for(lambda: len([t for t in mon.ticks() if t.t >= frozen_at + 1]) >= 2, 8)
        finally:
            web.resume()
            db.resume()
        resumed_at = time.time()
        assert _wait_for(lambda: any(t.t >= resumed_at + 1 and t.db.error is None for t in mon.ticks()), 10)
        ticks = mon.ticks()
    paused = [t for t in ticks if paused_at < t.db.t and t.db.t + 1 < resumed_at]  # sampled while paused
    assert paused and all(t.db.error for t in paused), [(t.t - paused_at, t.db.t - paused_at, t.db.error)
                                                        for t in ticks]
    assert any(t.db.error == "timeout" for t in paused)
    frozen = [t for t in ticks if frozen_at < t.arcade.t and t.arcade.t + 1 < resumed_at]
    assert frozen and all(t.arcade.error == "timeout" for t in frozen)
    assert all(t.probe.availability in (0.0, None) for t in frozen)
    seconds = [t.t for t in ticks]
    assert seconds == list(range(seconds[0], seconds[0] + len(seconds)))  # no second skipped
    assert any(t.probe.availability is not None and t.probe.availability < 1 for t in paused)


def test_cli_monitor_prints_seconds_and_rejects_bad_rules(gameday, tmp_path):
    bad = gameday("monitor", "--rule", "SiteAvailabilityLow.fro=5")
    assert bad.returncode == 2
    assert bad.stderr.strip() == "Error: rules.SiteAvailabilityLow.fro: unknown field; did you mean 'for'?"
    bad = gameday("monitor", "--rule", "DbConnectionsSaturated.enabled=maybe")
    assert bad.returncode == 2 and "expected true or false, got 'maybe'" in bad.stderr
    assert gameday("up").returncode == 0
    out = gameday("monitor", "--plain", "--duration", "3.5", "--rule", "DbConnectionsSaturated.enabled=false",
                  "--events", str(tmp_path / "alerts.jsonl"))
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if " avail " in line]
    assert len(lines) >= 2 and "firing []" in lines[-1], out.stdout
    seconds = [json.loads(line) for line in (tmp_path / "sli.jsonl").read_text().splitlines()]
    assert len(seconds) >= 2 and seconds[-1]["probe"]["availability"] == 1.0
    assert seconds[-1]["db"]["max_connections"] == 40 and seconds[-1]["firing"] == []
    live = gameday("monitor", "--duration", "2.5")
    assert live.returncode == 0 and "availability" in live.stdout and "db connections" in live.stdout, live.stdout


@pytest.mark.cpu_slot  # 250 requests a second through a pool of four
def test_db_connections_saturated_fires_unless_the_scenario_switches_it_off(make_stack):
    stack = make_stack("loadgen.enabled=true", "db.max_connections=10", "web.pool_size=4")
    quiet = apply_overrides(FAST, {"DbConnectionsSaturated": {"enabled": False}})
    config = MonitorConfig(probe=ProbeConfig(rate=1.0), rules=FAST)
    with watching(stack, config) as mon, watching(stack, MonitorConfig(probe=ProbeConfig(rate=1.0), rules=quiet)) as off:
        _control(stack.address("loadgen"), {"rate": 250})

        def saturated() -> bool:
            return any(e.alert == "DbConnectionsSaturated" and e.kind == "alert.firing" for e in mon.events())

        assert _wait_for(saturated, 20), [(t.t, t.db) for t in mon.ticks()][-5:]
        _control(stack.address("loadgen"), {"rate": 0})
        ticks = off.ticks()
    assert max(t.signals["db_connections_ratio"] or 0 for t in ticks) > 0.9
    assert not any(e.alert == "DbConnectionsSaturated" for e in off.events())
