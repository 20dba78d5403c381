"""Every fault kind on the compose stack, through the same fault library as on the embedded one:
each is injected with its own example parameters, does its real harm to the containers (docker
pause, a recreated container, a toxic in the Toxiproxy container, ...), and is reverted.

    kind ──▶ FAULTS[kind].example ──inject──▶ its own harm check (HARM), or else the generic one:
                                              its cause is present, and the lab's probe sees the
                                              symptom it declares ──revert──▶ healthy again
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from lab.faults import FAULTS, engine
from lab.faults.base import Symptom
from lab.monitor.load import LoadControl
from lab.monitor.probe import Probe, ProbeConfig
from lab.monitor.signals import ProbeResult
from lab.stack import procs
from lab.verify.evaluate import ROUTE_STEPS

SETTINGS = ("web.access_mode=per-request", "web.workers=2", "web.request_timeout_s=4", "web.statement_timeout_ms=3000",
            "web.connect_timeout_s=2")


@pytest.fixture(scope="module")
def stack(compose_stack):  # type: ignore[no-untyped-def]
    return compose_stack(*SETTINGS)


def readyz(stack: Any, path: str = "readyz") -> tuple[int | None, str, float]:
    """(status, cause, seconds) of one request to Arcade through the edge."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(stack.urls()["arcade"] + path, timeout=15) as resp:
            return resp.status, "", time.monotonic() - started
    except urllib.error.HTTPError as exc:
        body = exc.read() or b"{}"
        try:
            cause = json.loads(body).get("error", "")
        except ValueError:
            cause = ""
        return exc.code, cause, time.monotonic() - started
    except OSError as exc:
        return None, str(exc), time.monotonic() - started


def container(stack: Any, service: str) -> dict[str, Any]:
    found = stack.containers(service)
    assert found, f"no {service} container"
    return stack.client.api.inspect_container(found[0]["Id"])  # type: ignore[no-any-return]


def toxiproxy(stack: Any, path: str) -> Any:
    with urllib.request.urlopen(stack.urls()["toxiproxy"] + path, timeout=5) as resp:
        return json.loads(resp.read())


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    return procs.wait_until(check, timeout, 0.2)


def example(kind: str) -> dict[str, Any]:
    return dict(FAULTS[kind].example)


# --- what any kind declares, checked through the site ---------------------------------------------


PROBE_TIMEOUT_S = 2.0
PROBE_S = 2.0 + 2 * PROBE_TIMEOUT_S  # long enough for early journeys to time out on their second step too


@dataclass(frozen=True)
class Seen:
    """What a few seconds of the lab's own probe saw through the edge."""

    requests: int
    availability: float
    p95_ms: float
    failures: dict[str, int]  # probe step -> failed requests

    def signs(self, symptom: Symptom) -> dict[str, bool]:
        """Each sign the symptom declares in the probe's terms, and whether it shows here."""
        out: dict[str, bool] = {}
        if symptom.availability_below is not None:
            out[f"availability below {symptom.availability_below}"] = self.availability < symptom.availability_below
        if symptom.latency_p95_above_ms is not None:
            out[f"p95 above {symptom.latency_p95_above_ms:.0f} ms"] = self.p95_ms > symptom.latency_p95_above_ms
        if symptom.route is not None:
            out[f"{symptom.route} failing"] = self.route_failures(symptom.route) >= 1
        return out

    def route_failures(self, route: str) -> int:
        return self.failures.get(ROUTE_STEPS.get(route, route.strip("/")), 0)


def probe(stack: Any, seconds: float = PROBE_S) -> Seen:
    """A few seconds of players' journeys through the edge, walked by the lab's own probe."""
    edge = urlsplit(stack.urls()["arcade"])
    results: list[ProbeResult] = []
    walker = Probe(edge.hostname or "127.0.0.1", edge.port or 80, ProbeConfig(rate=4.0, timeout_s=PROBE_TIMEOUT_S),
                   results.append, seed=1)

    async def walk() -> None:
        try:
            await asyncio.wait_for(walker.run(), seconds)
        except asyncio.TimeoutError:
            pass

    asyncio.run(walk())
    latencies = sorted(r.latency * 1000 for r in results)
    failures: dict[str, int] = {}
    for r in results:
        if not r.ok:
            failures[r.step] = failures.get(r.step, 0) + 1
    return Seen(len(results), sum(r.ok for r in results) / len(results) if results else 1.0,
                latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0, failures)


def declared(stack: Any, kind: str, fault_id: str) -> Seen:
    """The check every kind gets from what it declares: its cause is present while it is active,
    and the probe sees every sign of its symptom (trivially so when it declares none in the
    probe's terms). What the probe saw is returned."""
    fault = FAULTS[kind]
    if fault.instant:
        assert not engine.journal_for(stack).active(), f"{kind}: a one-shot fault stays active"
    else:
        active = engine.journal_for(stack).active()[fault_id]
        assert active.confirmed
        assert eventually(lambda: engine.cause_present(stack, active), 10), f"{kind}: its cause is not present"
    seen = probe(stack)
    signs = seen.signs(fault.symptom)
    assert all(signs.values()), f"{kind}: '{fault.symptom.description}' not seen: {signs} in {seen}"
    return seen


# --- the harm each kind does, checked on the containers -----------------------------------------


def surge(stack: Any, before: dict[str, Any]) -> None:
    state = LoadControl(stack.address("loadgen")).state()
    assert state.current_rate == pytest.approx(max(before["rate"], 1.0) * example("traffic_surge")["factor"])


def hog(stack: Any, before: dict[str, Any]) -> None:
    def held() -> bool:
        (n,), = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade' "
                          "AND state = 'idle in transaction'")
        return int(n) >= example("connection_hog")["connections"]
    assert eventually(held)


def max_connections(stack: Any, before: dict[str, Any]) -> None:
    assert stack.sql("SHOW max_connections") == [(str(example("db_max_connections")["value"]),)]
    assert container(stack, "db")["Id"] != before["db_id"]  # recreated by Compose with the new setting


def stopped(stack: Any, before: dict[str, Any]) -> None:
    assert container(stack, "db")["State"]["Status"] == "exited"
    status, cause, _ = readyz(stack)
    assert (status, cause) == (503, "db_unavailable")


def restarted(stack: Any, before: dict[str, Any]) -> None:
    assert container(stack, "db")["State"]["StartedAt"] != before["db_started"]
    assert stack.sql("SELECT pg_postmaster_start_time()::text") != before["postmaster"]


def paused(stack: Any, before: dict[str, Any]) -> None:
    assert container(stack, "db")["State"]["Status"] == "paused"  # docker pause: the cgroup is frozen
    status, cause, seconds = readyz(stack)
    assert status == 503 and cause in ("db_timeout", "db_unavailable") and seconds < 8


def locked(stack: Any, before: dict[str, Any]) -> None:
    rows = stack.sql("SELECT l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                     "WHERE c.relname = 'best_scores' AND l.mode = 'AccessExclusiveLock'")
    assert (True,) in rows


def no_index(stack: Any, before: dict[str, Any]) -> None:
    assert stack.sql("SELECT 1 FROM pg_indexes WHERE indexname = 'best_scores_leaderboard'") == []


def slow(stack: Any, before: dict[str, Any]) -> None:
    _status, _cause, seconds = readyz(stack)
    assert seconds >= 0.3


def throttled(stack: Any, before: dict[str, Any]) -> None:
    toxics = toxiproxy(stack, "/proxies/postgres/toxics")
    assert [t["type"] for t in toxics] == ["bandwidth"]
    _status, _cause, seconds = readyz(stack)
    assert seconds >= 0.3


def failing(stack: Any, before: dict[str, Any]) -> None:
    status, _cause, _ = readyz(stack)
    assert status == 503


def cut(stack: Any, before: dict[str, Any]) -> None:
    assert toxiproxy(stack, "/proxies/postgres")["enabled"] is False
    status, cause, _ = readyz(stack)
    assert (status, cause) == (503, "db_unavailable")


def worker_killed(stack: Any, before: dict[str, Any]) -> None:
    # gone (once its master has reaped it), and gunicorn starts another in that container
    assert eventually(lambda: set(before["workers"]) - set(stack.web_workers()), 10)
    assert eventually(lambda: len(stack.web_workers()) == len(before["workers"]))


def deployed(stack: Any, before: dict[str, Any]) -> None:
    status, _cause, _ = readyz(stack, "leaderboard?game=tetra")
    assert status == 500
    env = container(stack, "web")["Config"]["Env"]
    assert "ARCADE_FLAGS=broken_leaderboard" in env


def ddl_queued(stack: Any, before: dict[str, Any]) -> None:
    def waiting() -> bool:
        return stack.sql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                         "WHERE c.relname = 'best_scores' AND l.mode = 'AccessExclusiveLock' AND NOT l.granted") == [(1,)]
    assert eventually(waiting, 15)


def churned(stack: Any, before: dict[str, Any]) -> None:
    """The balancer does nothing while the site is healthy; with the DB link cut, its checks fail
    and it replaces Arcade's workers (gunicorn starts new ones)."""
    workers = stack.web_workers()
    cut = engine.inject(stack, "net_down", {})
    try:
        assert eventually(lambda: not set(workers) <= set(stack.web_workers()), 20)
    finally:
        engine.revert_id(stack, cut)


# each kind's own check of its harm (with the kind's example parameters); a kind missing here gets `declared`
HARM: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "ddl_lock_queue": ddl_queued,
    "health_check_churn": churned,
    "traffic_surge": surge,
    "connection_hog": hog,
    "db_max_connections": max_connections,
    "db_stop": stopped,
    "db_restart": restarted,
    "db_pause": paused,
    "lock_contention": locked,
    "slow_query": no_index,
    "net_latency": slow,
    "net_bandwidth": throttled,
    "net_timeout": failing,
    "net_reset_peer": failing,
    "net_down": cut,
    "web_worker_kill": worker_killed,
    "bad_deploy": deployed,
}


def _before(stack: Any) -> dict[str, Any]:
    db = container(stack, "db")
    return {"db_id": db["Id"], "db_started": db["State"]["StartedAt"], "workers": stack.web_workers(),
            "postmaster": stack.sql("SELECT pg_postmaster_start_time()::text"),
            "rate": LoadControl(stack.address("loadgen")).state().current_rate}


def _healthy(stack: Any) -> bool:
    return readyz(stack)[0] == 200 and readyz(stack, "leaderboard?game=tetra")[0] == 200


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_every_fault_kind_does_its_harm_on_compose_and_is_reverted(stack, kind):
    assert eventually(lambda: _healthy(stack), 30), f"not healthy before {kind}"
    harm = HARM.get(kind)
    before = _before(stack)
    fault_id = engine.inject(stack, kind, example(kind))
    try:
        if harm is not None:
            harm(stack, before)
        else:  # a kind added since, without its own check here yet: what it declares
            declared(stack, kind, fault_id)
    finally:
        active = engine.journal_for(stack).active()
        if fault_id in active:
            engine.revert(stack, active[fault_id])
    assert not engine.journal_for(stack).active()
    assert eventually(lambda: _healthy(stack), 30), f"Arcade did not recover after reverting {kind}"
    assert stack.sql("SHOW max_connections") == [("40",)]
    assert stack.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'best_scores_leaderboard'") == [(1,)]
    assert toxiproxy(stack, "/proxies/postgres/toxics") == []


def test_the_harm_table_covers_the_fault_library():
    """A new fault kind gets its own check here, not only the generic one."""
    assert set(HARM) <= set(FAULTS)


@pytest.mark.parametrize("kind", ["net_down", "net_latency", "bad_deploy"])  # availability, latency, a route
def test_the_generic_check_sees_what_a_fault_declares_where_a_healthy_site_does_not(stack, kind):
    assert eventually(lambda: _healthy(stack), 30), f"not healthy before {kind}"
    symptom = FAULTS[kind].symptom
    healthy = probe(stack)
    fault_id = engine.inject(stack, kind, example(kind))
    try:
        harmed = declared(stack, kind, fault_id)
    finally:
        engine.revert_id(stack, fault_id)
    # each declared sign is the fault's doing: worse than on the same site just before (compared,
    # not absolute: a machine loaded by other work can be slow or time out now and then by itself)
    if symptom.availability_below is not None:
        assert harmed.availability < healthy.availability, (healthy, harmed)
    if symptom.latency_p95_above_ms is not None:
        assert harmed.p95_ms > healthy.p95_ms, (healthy, harmed)
    if symptom.route is not None:
        assert harmed.route_failures(symptom.route) > healthy.route_failures(symptom.route), (healthy, harmed)
    assert eventually(lambda: _healthy(stack), 30), f"Arcade did not recover after reverting {kind}"
