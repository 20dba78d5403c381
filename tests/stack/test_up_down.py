"""`gameday up` / `down` through the real CLI: real pages from PostgreSQL, nothing left behind."""

from __future__ import annotations

import json
import urllib.request

import psutil
import pytest

pytestmark = pytest.mark.integration


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def test_up_serves_real_pages_and_down_leaves_nothing(gameday, run_root):
    up = gameday("up", "--name", "alpha")
    assert up.returncode == 0, up.stderr
    assert "http://127.0.0.1:" in up.stdout

    st = gameday("status", "--name", "alpha", "--json")
    assert st.returncode == 0, st.stderr + st.stdout
    status = json.loads(st.stdout)
    assert status["healthy"] is True
    assert status["db_max_connections"] == 40
    services = {s["name"]: s for s in status["services"]}
    pids = [s["pid"] for s in services.values()]
    ports = [int(s["address"].rsplit(":", 1)[1]) for s in services.values()]
    pids += [c for pid in pids for c in (p.pid for p in psutil.Process(pid).children(recursive=True))]

    base = status["urls"]["arcade"]
    code, body = _get(base)
    assert code == 200 and b"<html" in body.lower()
    assert b"player" in body.lower()  # the lobby lists seeded players' scores
    code, body = _get(base + "leaderboard?game=tetra&limit=5")
    board = json.loads(body)
    assert code == 200 and len(board["entries"]) == 5
    scores = [e["score"] for e in board["entries"]]
    assert scores == sorted(scores, reverse=True)

    table = gameday("status", "--name", "alpha")
    assert "connections" in table.stdout and "/40" in table.stdout

    down = gameday("down", "--name", "alpha")
    assert down.returncode == 0 and "stopped" in down.stdout
    assert not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    listening = {c.laddr.port for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
    assert not listening & set(ports)

    again = gameday("down", "--name", "alpha")
    assert again.returncode == 0 and "was not running" in again.stdout


def test_warm_restart_reuses_the_cluster(gameday, run_root):
    assert gameday("up", "--name", "warm").returncode == 0
    first = gameday("sql", "--name", "warm", "SELECT count(*) FROM players")
    assert first.returncode == 0 and int(first.stdout.strip()) >= 10_000
    assert gameday("sql", "--name", "warm", "CREATE TABLE keepme (x int)").returncode == 0
    assert gameday("down", "--name", "warm").returncode == 0
    assert gameday("up", "--name", "warm").returncode == 0
    kept = gameday("sql", "--name", "warm", "SELECT count(*) FROM keepme")
    assert kept.returncode == 0 and kept.stdout.strip() == "0"
    assert gameday("down", "--name", "warm", "--purge").returncode == 0
    assert not (run_root / "warm").exists()


def test_two_stacks_side_by_side(make_stack):
    a = make_stack()
    b = make_stack()
    ports_a = {s.address for s in a.status().services}
    ports_b = {s.address for s in b.status().services}
    assert not ports_a & ports_b
    a.sql("CREATE TABLE only_in_a (x int)")
    assert b.sql("SELECT to_regclass('only_in_a')") == [(None,)]


def test_status_stats_show_every_services_cpu_and_memory(gameday, make_stack):
    """The embedded stack has stats too: each service's whole process tree (compose: each container)."""
    stack = make_stack()
    result = gameday("status", "--name", stack.name, "--json", "--stats")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)["stats"]
    assert set(stats) == set(stack.services)
    assert all(figures["mem_mb"] > 1 and figures["cpu_percent"] >= 0 for figures in stats.values())
    table = gameday("status", "--name", stack.name, "--stats")
    assert table.returncode == 0 and "memory" in table.stdout


def test_a_free_port_taken_by_someone_else_before_the_stack_binds_it_is_chosen_again(run_root, monkeypatch):
    """The race `up` cannot avoid (a port free when chosen, bound by another program a moment
    later) costs one more try, not a failed `up`; the squatter keeps its port."""
    import socket

    from lab.stack import ports
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen(1)
    taken = squatter.getsockname()[1]
    real = ports.allocate
    calls = []

    def first_one_races(config, taken_ports=None):  # type: ignore[no-untyped-def]
        chosen = real(config, taken_ports)
        calls.append(chosen)
        return {**chosen, "web": taken} if len(calls) == 1 else chosen

    monkeypatch.setattr(ports, "allocate", first_one_races)
    said: list[str] = []
    stack = LocalStack("race", run_root, load_config(None, ["loadgen.enabled=false"]))
    try:
        status = stack.up(progress=said.append)
        assert status.healthy and len(calls) == 2
        assert any("port was taken" in line for line in said)
        assert stack.address("web") != f"127.0.0.1:{taken}"
    finally:
        stack.down(purge=True)
        squatter.close()
