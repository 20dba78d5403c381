"""Access modes seen from the server: per-request connections, a bounded pool, waits and deadlines.

A table lock held by a second admin connection parks Arcade's queries, so pg_stat_activity can
be read while requests are in flight. Requests go over real HTTP to a threaded server.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2.extensions
import pytest
import requests
from flask import Flask

from arcade import metrics
from arcade_helpers import app_backends, holding_lock, wait_for

Admin = psycopg2.extensions.connection
LEADERBOARD = "/leaderboard?game=tetra"  # reads games first: parked by a lock on games


@pytest.fixture
def locker(pg: Any) -> Iterator[Admin]:
    """A second superuser connection, to hold locks while `admin` watches."""
    conn = pg.admin()
    try:
        yield conn
    finally:
        conn.close()


class InFlight:
    """GET requests sent from background threads."""

    def __init__(self, url: str, count: int = 1) -> None:
        self.responses: list[requests.Response] = []
        self.threads = [threading.Thread(target=self._get, args=(url,)) for _ in range(count)]
        for thread in self.threads:
            thread.start()

    def _get(self, url: str) -> None:
        self.responses.append(requests.get(url, timeout=30))

    def join(self) -> list[requests.Response]:
        for thread in self.threads:
            thread.join(timeout=30)
        return self.responses


def gauge(name: str) -> float:
    return metrics.REGISTRY.get_sample_value(name) or 0.0


def parked(admin: Admin, app: Flask, count: int) -> Callable[[], list[dict[str, Any]] | None]:
    def check() -> list[dict[str, Any]] | None:
        rows = [r for r in app_backends(admin, app) if r["wait_event_type"] == "Lock"]
        return rows if len(rows) == count else None

    return check


def test_per_request_mode_opens_and_closes_a_connection_per_request(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(access_mode="per-request")
    url = serve(app)
    assert app_backends(admin, app) == []
    pids = []
    for _ in range(2):
        with holding_lock(locker, "games"):
            request = InFlight(url + LEADERBOARD)
            (backend,) = wait_for(parked(admin, app, 1), what="the request's connection")
            pids.append(backend["pid"])
        assert [r.status_code for r in request.join()] == [200]
        wait_for(lambda: app_backends(admin, app) == [], what="the connection to close")
    assert pids[0] != pids[1]  # a new server process each time


def test_pool_mode_reuses_its_connection(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(access_mode="pool", pool_size=3)
    url = serve(app)
    pids = []
    for _ in range(2):
        with holding_lock(locker, "games"):
            request = InFlight(url + LEADERBOARD)
            (backend,) = wait_for(parked(admin, app, 1), what="the request's connection")
            pids.append(backend["pid"])
        assert [r.status_code for r in request.join()] == [200]
        (idle,) = wait_for(lambda: app_backends(admin, app), what="the pooled connection")
        assert idle["pid"] == backend["pid"]
    assert pids[0] == pids[1]


def test_pool_mode_keeps_at_most_pool_size_connections(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(pool_size=2, pool_timeout_s=10)
    url = serve(app)
    waiting_before, in_use_before = gauge("arcade_db_connections_waiting"), gauge("arcade_db_connections_in_use")
    with holding_lock(locker, "games"):
        requests_ = InFlight(url + LEADERBOARD, count=6)
        wait_for(parked(admin, app, 2), what="two parked connections")
        wait_for(lambda: gauge("arcade_db_connections_waiting") == waiting_before + 4, what="four waiters")
        assert gauge("arcade_db_connections_in_use") == in_use_before + 2
        time.sleep(0.3)
        assert len(app_backends(admin, app)) == 2
    assert sorted(r.status_code for r in requests_.join()) == [200] * 6
    assert len(app_backends(admin, app)) <= 2
    assert gauge("arcade_db_connections_waiting") == waiting_before
    assert gauge("arcade_db_connections_in_use") == in_use_before


def test_waiting_for_a_pooled_connection_times_out_with_503(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(pool_size=1, pool_timeout_s=0.5)
    url = serve(app)
    with holding_lock(locker, "games"):
        first = InFlight(url + LEADERBOARD)
        wait_for(parked(admin, app, 1), what="the only connection to be busy")
        started = time.monotonic()
        second = requests.get(url + "/players/1", timeout=10)
        elapsed = time.monotonic() - started
    assert second.status_code == 503
    assert second.json()["error"] == "db_timeout"
    assert second.json()["sqlstate"] is None
    assert "no free database connection within 0.5 s" in second.json()["detail"]
    assert 0.4 < elapsed < 2.0
    assert [r.status_code for r in first.join()] == [200]


def test_the_request_deadline_bounds_a_stuck_query_and_the_connection_is_dropped(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(pool_size=1, request_timeout_s=1, statement_timeout_ms=0)
    url = serve(app)
    assert requests.get(url + "/readyz", timeout=10).status_code == 200
    (warm,) = app_backends(admin, app)
    with holding_lock(locker, "games"):
        started = time.monotonic()
        stuck = requests.get(url + LEADERBOARD, timeout=10)
        elapsed = time.monotonic() - started
    assert (stuck.status_code, stuck.json()["error"], stuck.json()["sqlstate"]) == (503, "db_timeout", None)
    assert 0.9 < elapsed < 2.0
    # the timed-out connection is closed, not reused: the next request gets a new one
    assert requests.get(url + LEADERBOARD, timeout=10).status_code == 200
    wait_for(lambda: warm["pid"] not in [r["pid"] for r in app_backends(admin, app)], what="the old backend to go")


def test_statement_timeout_is_a_503_db_timeout_with_sqlstate_57014(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Admin, locker: Admin
) -> None:
    app = make_app(statement_timeout_ms=300)
    url = serve(app)
    errors_before = metrics.REGISTRY.get_sample_value(
        "arcade_db_errors_total", {"sqlstate": "57014", "cause": "db_timeout"}
    ) or 0.0
    with holding_lock(locker, "games"):
        response = requests.get(url + LEADERBOARD, timeout=10)
    assert response.status_code == 503
    assert response.json() == {
        "error": "db_timeout",
        "detail": "canceling statement due to statement timeout",
        "sqlstate": "57014",
    }
    assert metrics.REGISTRY.get_sample_value(
        "arcade_db_errors_total", {"sqlstate": "57014", "cause": "db_timeout"}
    ) == errors_before + 1
    assert requests.get(url + LEADERBOARD, timeout=10).status_code == 200
