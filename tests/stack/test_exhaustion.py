"""The March 2023 failure mode for real: per-request connections exhaust max_connections."""

from __future__ import annotations

import collections
import http.client
import json
import threading
import time
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]


def _hammer(url: str, clients: int, seconds: float, stack) -> tuple[collections.Counter, int, list[int]]:
    """`clients` threads with keep-alive connections request `url` for `seconds`.

    Returns (outcome counts, admin queries that succeeded meanwhile, sampled client backends)."""
    parsed = urlparse(url)
    outcomes: collections.Counter = collections.Counter()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=15)
        while time.monotonic() < stop:
            try:
                conn.request("GET", parsed.path + "?" + parsed.query)
                resp = conn.getresponse()
                body = resp.read()
                key = str(resp.status)
                if resp.status == 503:
                    key += ":" + json.loads(body).get("error", "?")
            except (OSError, http.client.HTTPException) as exc:
                key = type(exc).__name__
                conn.close()
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=15)
            with lock:
                outcomes[key] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    admin_ok = 0
    samples = []
    while any(t.is_alive() for t in threads):
        (n,), = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade'")
        samples.append(n)
        admin_ok += 1
        time.sleep(0.05)
    for t in threads:
        t.join()
    return outcomes, admin_ok, samples


LOAD = ("db.max_connections=10", "web.workers=2", "web.threads=16", "web.pool_size=3")


def test_per_request_mode_exhausts_connections_and_admin_sql_still_works(make_stack):
    stack = make_stack(*LOAD, "web.access_mode=per-request")
    outcomes, admin_ok, _samples = _hammer(stack.urls()["arcade"] + "leaderboard?game=tetra", 40, 4.0, stack)
    total = sum(outcomes.values())
    assert outcomes["503:too_many_connections"] >= 0.25 * total, outcomes
    assert admin_ok >= 3  # the reserved superuser slot kept answering during the surge (a failure raises)


def test_pool_mode_under_the_same_load_never_exhausts_the_db(make_stack):
    stack = make_stack(*LOAD, "web.access_mode=pool")
    outcomes, admin_ok, samples = _hammer(stack.urls()["arcade"] + "leaderboard?game=tetra", 40, 4.0, stack)
    assert outcomes["503:too_many_connections"] == 0, outcomes
    assert outcomes["200"] > 0, outcomes
    assert max(samples) <= 2 * 3  # workers x pool size
    assert admin_ok >= 3
