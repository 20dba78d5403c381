"""The DB proxy slot: Arcade reaches PostgreSQL through the fault proxy, driven only by its
Toxiproxy API (the toxiproxy-python client), so the same code drives real Toxiproxy too."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest
from toxiproxy import Toxiproxy

from lab.stack import procs

pytestmark = pytest.mark.integration


def _readyz(stack) -> tuple[int | None, dict, float]:
    url = stack.urls()["arcade"] + "readyz"
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}"), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}"), time.monotonic() - started
    except OSError:
        return None, {}, time.monotonic() - started


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    s = LocalStack("slot", tmp_path_factory.mktemp("gd"), load_config(None, ["proxy.enabled=true", "web.request_timeout_s=2"]))
    s.up()
    yield s
    s.down(purge=True)


@pytest.fixture
def toxiproxy(stack):
    host, port = stack.address("proxy").split(":")
    client = Toxiproxy()
    client.update_api_consumer(host, int(port))
    yield client
    client.reset()


def test_arcade_connects_through_the_proxy(stack, toxiproxy):
    proxy = toxiproxy.get_proxy("postgres")
    db_port = stack.address("db").split(":")[1]
    assert proxy.upstream == f"127.0.0.1:{db_port}"
    rows = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade' AND client_addr IS NOT NULL")
    assert rows[0][0] >= 1
    assert _readyz(stack)[0] == 200


def test_proxy_down_makes_arcade_report_db_unavailable(stack, toxiproxy):
    toxiproxy.get_proxy("postgres").disable()
    try:
        # pooled connections are cut too; each answer is a 503 naming the DB as the cause
        status, body, _ = _readyz(stack)
        assert status == 503 and body["error"] in ("db_unavailable", "db_timeout")
        assert stack.sql("SELECT 1") == [(1,)]  # the admin path bypasses the proxy
    finally:
        toxiproxy.get_proxy("postgres").enable()
    assert procs.wait_until(lambda: _readyz(stack)[0] == 200, 10, interval=0.1)


def test_latency_toxic_slows_every_db_round_trip(stack, toxiproxy):
    baseline = min(_readyz(stack)[2] for _ in range(5))
    toxiproxy.get_proxy("postgres").add_toxic(type="latency", attributes={"latency": 200, "jitter": 0})
    slowed = min(_readyz(stack)[2] for _ in range(3))
    assert slowed >= baseline + 0.19
    toxiproxy.reset()
    assert min(_readyz(stack)[2] for _ in range(5)) < baseline + 0.1
