"""When the database fails, every route answers 503 with its cause, within the deadline.

    closed port         -> db_unavailable        (nothing listens)
    SIGSTOPped server   -> db_timeout            (the kernel accepts TCP, nothing answers)
    full server         -> too_many_connections  (53300, both server messages)
    terminated backend  -> db_unavailable 57P01 mid-query; an idle pooled one is dropped unused
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psutil
import psycopg2
import pytest
import requests
from flask import Flask

from arcade import metrics
from arcade_helpers import app_backends, holding_lock, wait_for

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/", None),
    ("GET", "/readyz", None),
    ("GET", "/leaderboard?game=tetra", None),
    ("GET", "/players/1", None),
    ("GET", "/store", None),
    ("POST", "/login", {"username": "player1", "password": "arcade"}),
    ("POST", "/matches", {"player_id": 1, "game": "tetra"}),
    ("POST", "/matches/1/score", {"score": 1}),
    ("POST", "/store/purchase", {"player_id": 1, "item_id": 1}),
]


@pytest.fixture(scope="module")
def small_pg(make_pg: Callable[..., Any]) -> Any:
    """A private seeded cluster with 6 connection slots, 3 of them reserved for superusers."""
    return make_pg(max_connections="6", superuser_reserved_connections="3")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def error_count(cause: str, sqlstate: str = "none") -> float:
    return metrics.REGISTRY.get_sample_value("arcade_db_errors_total", {"sqlstate": sqlstate, "cause": cause}) or 0.0


@contextlib.contextmanager
def frozen(postmaster_pid: int) -> Iterator[None]:
    """SIGSTOP the server and all its processes; SIGCONT them on every path."""
    procs = [psutil.Process(postmaster_pid), *psutil.Process(postmaster_pid).children(recursive=True)]
    for proc in procs:
        proc.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("mode", ["pool", "per-request"])
def test_a_closed_port_is_db_unavailable_on_every_route(make_app: Callable[..., Flask], mode: str) -> None:
    app = make_app(dsn=f"host=127.0.0.1 port={closed_port()} dbname=arcade user=arcade", access_mode=mode)
    client = app.test_client()
    before = error_count("db_unavailable")
    for method, path, body in ROUTES:
        started = time.monotonic()
        response = client.open(path, method=method, json=body)
        assert time.monotonic() - started < 2
        assert response.status_code == 503, (method, path)
        assert response.get_json()["error"] == "db_unavailable"
        assert response.get_json()["sqlstate"] is None
        assert "Connection refused" in response.get_json()["detail"]
    assert error_count("db_unavailable") == before + len(ROUTES)
    assert client.get("/healthz").status_code == 200  # liveness needs no database
    assert client.get("/metrics").status_code == 200


def test_a_stopped_server_is_db_timeout_within_the_deadline(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], small_pg: Any
) -> None:
    pool = serve(make_app(dsn=small_pg.app_dsn, request_timeout_s=1.5, connect_timeout_s=1))
    per_request = serve(make_app(dsn=small_pg.app_dsn, access_mode="per-request", request_timeout_s=1.5,
                                 connect_timeout_s=1))
    assert requests.get(pool + "/readyz", timeout=10).status_code == 200  # a warm pooled connection

    def timed(url: str, json: dict[str, int] | None = None) -> tuple[requests.Response, float]:
        started = time.monotonic()
        response = requests.request("POST" if json else "GET", url, json=json, timeout=30)
        return response, time.monotonic() - started

    with frozen(small_pg.pid):
        # the pooled connection's transaction (BEGIN, SELECT ... FOR UPDATE) gets no answer
        stuck_query, query_s = timed(pool + "/store/purchase", {"player_id": 1, "item_id": 1})
        stuck_connect, connect_s = timed(pool + "/players/1")  # that connection was dropped: a new connect
        per_request_connect, per_request_s = timed(per_request + "/readyz")
        # outside a request, connect_timeout still holds although every connect is non-blocking
        started = time.monotonic()
        with pytest.raises(psycopg2.OperationalError, match="timeout expired"):
            psycopg2.connect(small_pg.app_dsn, connect_timeout=2)
        plain_connect_s = time.monotonic() - started
    for response in (stuck_query, stuck_connect, per_request_connect):
        assert response.status_code == 503
        assert response.json()["error"] == "db_timeout"
        assert response.json()["sqlstate"] is None
    assert 1.4 < query_s < 2.5  # the request deadline
    assert 0.9 < connect_s < 2.0 and 0.9 < per_request_s < 2.0  # the connect timeout
    assert "within 1.0 s" in stuck_connect.json()["detail"]
    assert 1.9 < plain_connect_s < 3.0
    # thawed: both serve again
    wait_for(lambda: requests.get(pool + "/readyz", timeout=10).status_code == 200, what="pool recovery")
    assert requests.get(per_request + "/readyz", timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("superusers", "message"),
    [
        (0, "remaining connection slots are reserved"),
        (3, "too many clients already"),
    ],
)
def test_a_full_server_is_too_many_connections(
    make_app: Callable[..., Flask], small_pg: Any, superusers: int, message: str
) -> None:
    held: list[Any] = []
    try:
        wait_for(lambda: _backend_count(small_pg) == 0, what="the small cluster to be empty")
        held += [psycopg2.connect(small_pg.app_dsn) for _ in range(3)]  # every unreserved slot
        held += [small_pg.admin() for _ in range(superusers)]  # and the reserved ones
        for mode in ("pool", "per-request"):
            client = make_app(dsn=small_pg.app_dsn, access_mode=mode).test_client()
            before = error_count("too_many_connections", "53300")
            response = client.get("/leaderboard?game=tetra")
            assert response.status_code == 503
            body = response.get_json()
            assert (body["error"], body["sqlstate"]) == ("too_many_connections", "53300")
            assert message in body["detail"]
            assert error_count("too_many_connections", "53300") == before + 1
    finally:
        for conn in held:
            conn.close()
    app = make_app(dsn=small_pg.app_dsn)
    wait_for(lambda: app.test_client().get("/readyz").status_code == 200, what="a free slot")


def _backend_count(server: Any) -> bool:
    with contextlib.closing(server.admin()) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
        return int(cur.fetchone()[0])


def test_a_connection_terminated_mid_query_is_db_unavailable_57p01(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str], admin: Any, pg: Any
) -> None:
    app = make_app(pool_size=1)
    url = serve(app)
    with contextlib.closing(pg.admin()) as locker, holding_lock(locker, "games"):
        with ThreadPoolExecutor(1) as pool:
            parked = pool.submit(requests.get, url + "/leaderboard?game=tetra", timeout=10)
            (backend,) = wait_for(lambda: [r for r in app_backends(admin, app) if r["wait_event_type"] == "Lock"],
                                  what="the parked query")
            with admin.cursor() as cur:
                cur.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))
            response = parked.result()
    assert response.status_code == 503
    assert response.json() == {
        "error": "db_unavailable",
        "detail": "FATAL:  terminating connection due to administrator command",
        "sqlstate": "57P01",
    }
    assert requests.get(url + "/leaderboard?game=tetra", timeout=10).status_code == 200  # a new connection


def test_an_idle_pooled_connection_the_server_closed_is_not_reused(
    make_app: Callable[..., Flask], admin: Any
) -> None:
    app = make_app(pool_size=1)
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    (backend,) = app_backends(admin, app)
    with admin.cursor() as cur:
        cur.execute("SELECT pg_terminate_backend(%s)", (backend["pid"],))
    wait_for(lambda: app_backends(admin, app) == [], what="the backend to exit")
    assert client.get("/players/1").status_code == 200  # the dead connection was dropped, not used
    (fresh,) = app_backends(admin, app)
    assert fresh["pid"] != backend["pid"]
