"""PostgreSQL through the proxy: pgbench runs clean without toxics and shows each toxic's effect."""

from __future__ import annotations

import re
import socket
import struct
import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]


@pytest.fixture
def pg_proxy(api, pg_cluster):
    """A proxy named 'postgres' in front of the throwaway cluster; returns its port."""
    listen = api.create("postgres", f"127.0.0.1:{pg_cluster.port}")["listen"]
    return int(listen.rsplit(":", 1)[1])


def latency_ms(out: str) -> float:
    return float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))


def test_pgbench_select_only_runs_clean_through_the_proxy(pg_cluster, pg_proxy):
    r = pg_cluster.pgbench("-S", "-c", "8", "-j", "2", "-T", "2", port=pg_proxy)
    assert r.returncode == 0, r.stderr
    assert re.search(r"number of failed transactions: 0 ", r.stdout)
    assert float(re.search(r"tps = ([0-9.]+)", r.stdout).group(1)) > 100


def test_latency_toxic_adds_to_every_query(api, pg_cluster, pg_proxy):
    direct = latency_ms(pg_cluster.pgbench("-S", "-c", "1", "-t", "50").stdout)
    api.add_toxic("postgres", type="latency", attributes={"latency": 20})
    r = pg_cluster.pgbench("-S", "-c", "1", "-t", "20", port=pg_proxy)
    assert r.returncode == 0, r.stderr
    slowed = latency_ms(r.stdout)
    assert 19.5 <= slowed - direct < 35, (direct, slowed)  # once per query, not twice


def test_down_proxy_refuses_connections(api, pg_cluster, pg_proxy):
    api.post("/proxies/postgres", json={"enabled": False})
    r = pg_cluster.pgbench("-S", "-c", "1", "-t", "5", port=pg_proxy)
    assert r.returncode != 0
    assert "Connection refused" in r.stderr
    api.post("/proxies/postgres", json={"enabled": True})
    assert pg_cluster.pgbench("-S", "-c", "1", "-t", "5", port=pg_proxy).returncode == 0


def test_timeout_toxic_stalls_then_closes(api, pg_cluster, pg_proxy):
    api.add_toxic("postgres", type="timeout", stream="upstream", attributes={"timeout": 500})
    start = time.monotonic()
    r = pg_cluster.pgbench("-S", "-c", "1", "-t", "5", port=pg_proxy)
    elapsed = time.monotonic() - start
    assert r.returncode != 0
    assert "server closed the connection unexpectedly" in r.stderr
    assert 0.5 <= elapsed < 3, elapsed


def test_reset_peer_gives_connection_resets(api, pg_cluster, pg_proxy):
    api.add_toxic("postgres", type="reset_peer", stream="downstream", attributes={"timeout": 100})
    r = pg_cluster.pgbench("-S", "-c", "1", "-t", "5", port=pg_proxy)
    assert r.returncode != 0
    # libpq words ECONNRESET as "server closed the connection unexpectedly"; the RST itself is
    # checked on a raw socket speaking PostgreSQL's startup message:
    assert "server closed the connection unexpectedly" in r.stderr
    startup = struct.pack(">i", 196608) + b"user\0postgres\0database\0postgres\0\0"
    with socket.create_connection(("127.0.0.1", pg_proxy), timeout=5) as s:
        s.sendall(struct.pack(">i", len(startup) + 4) + startup)
        with pytest.raises(ConnectionResetError):
            while s.recv(4096):
                pass


def test_toxic_on_a_running_pgbench(api, pg_cluster, pg_proxy):
    """A latency toxic added and removed while pgbench runs: it completes without errors."""
    import threading

    result = {}
    t = threading.Thread(target=lambda: result.update(r=pg_cluster.pgbench("-S", "-c", "4", "-T", "2", port=pg_proxy)))
    t.start()
    time.sleep(0.5)
    api.add_toxic("postgres", type="latency", attributes={"latency": 5, "jitter": 2})
    time.sleep(0.5)
    api.delete("/proxies/postgres/toxics/latency_downstream")
    t.join(30)
    r = result["r"]
    assert r.returncode == 0, r.stderr
    assert re.search(r"number of failed transactions: 0 ", r.stdout)
