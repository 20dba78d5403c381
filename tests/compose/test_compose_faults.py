"""Every fault kind on the compose stack, through the same fault library as on the embedded one:
each is injected, does its real harm to the containers (docker pause, a recreated container, a
toxic in the Toxiproxy container, ...), and is reverted."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from lab.faults import FAULTS, engine
from lab.monitor.load import LoadControl
from lab.stack import procs

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
    found = stack._raw_containers(service)
    assert found, f"no {service} container"
    return stack.client.api.inspect_container(found[0]["Id"])  # type: ignore[no-any-return]


def toxiproxy(stack: Any, path: str) -> Any:
    with urllib.request.urlopen(stack.urls()["toxiproxy"] + path, timeout=5) as resp:
        return json.loads(resp.read())


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    return procs.wait_until(check, timeout, 0.2)


# --- the harm each kind does, checked on the containers -----------------------------------------


def surge(stack: Any, before: dict[str, Any]) -> None:
    state = LoadControl(stack.address("loadgen")).state()
    assert state.current_rate == pytest.approx(4.0)


def hog(stack: Any, before: dict[str, Any]) -> None:
    def held() -> bool:
        (n,), = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade' "
                          "AND state = 'idle in transaction'")
        return int(n) >= 5
    assert eventually(held)


def max_connections(stack: Any, before: dict[str, Any]) -> None:
    assert stack.sql("SHOW max_connections") == [("20",)]
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


HARM: dict[str, tuple[dict[str, Any], Callable[[Any, dict[str, Any]], None]]] = {
    "ddl_lock_queue": ({"table": "best_scores"}, ddl_queued),
    "health_check_churn": ({"check_every_ms": 200, "check_timeout_ms": 500, "unhealthy_after": 1}, churned),
    "traffic_surge": ({"factor": 4, "shape": "constant"}, surge),
    "connection_hog": ({"connections": 5}, hog),
    "db_max_connections": ({"value": 20}, max_connections),
    "db_stop": ({}, stopped),
    "db_restart": ({}, restarted),
    "db_pause": ({}, paused),
    "lock_contention": ({"table": "best_scores"}, locked),
    "slow_query": ({}, no_index),
    "net_latency": ({"latency_ms": 300}, slow),
    "net_bandwidth": ({"rate_kb_s": 1}, throttled),
    "net_timeout": ({"timeout_ms": 0}, failing),
    "net_reset_peer": ({"timeout_ms": 0}, failing),
    "net_down": ({}, cut),
    "web_worker_kill": ({"count": 1}, worker_killed),
    "bad_deploy": ({}, deployed),
}


def _before(stack: Any) -> dict[str, Any]:
    db = container(stack, "db")
    return {"db_id": db["Id"], "db_started": db["State"]["StartedAt"], "workers": stack.web_workers(),
            "postmaster": stack.sql("SELECT pg_postmaster_start_time()::text")}


def _healthy(stack: Any) -> bool:
    return readyz(stack)[0] == 200 and readyz(stack, "leaderboard?game=tetra")[0] == 200


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_every_fault_kind_does_its_harm_on_compose_and_is_reverted(stack, kind):
    assert eventually(lambda: _healthy(stack), 30), f"not healthy before {kind}"
    params, harm = HARM.get(kind, ({}, None))
    before = _before(stack)
    fault_id = engine.inject(stack, kind, params)
    try:
        if harm is not None:
            harm(stack, before)
        else:  # a kind added since, without its own check here yet: at least it runs on compose
            journal = engine.journal_for(stack)
            assert FAULTS[kind].instant or journal.active()[fault_id].confirmed
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
