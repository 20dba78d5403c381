"""Halt and recovery with real processes: a halted drill reverts every fault within a second; a
runner killed with kill -9 leaves a journal from which `gameday recover` undoes everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import yaml

from lab.catalog import CATALOG
from lab.faults import engine
from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack

pytestmark = pytest.mark.integration


def journal(stack: LocalStack) -> list[dict]:
    return engine.journal_for(stack).records()


def spawn_drill(root: Path, name: str, scenario: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "GAMEDAY_ROOT": str(root)}
    return subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", scenario, "--quiet", "--name", name, *extra],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_injected(stack: LocalStack, count: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    ok = procs.wait_until(
        lambda: sum(r["op"] == "injected" for r in journal(stack)) >= count or proc.poll() is not None, timeout, 0.05)
    assert ok and proc.poll() is None, (proc.poll(), proc.stderr.read() if proc.poll() is not None else "")


def readyz(stack: LocalStack) -> int | None:
    try:
        with urllib.request.urlopen(stack.urls()["arcade"] + "readyz", timeout=3) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


@pytest.fixture(scope="module")
def march_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("gd")
    scenario, _ = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))
    stack = LocalStack("halt", root, load_config(None, scenario.stack.overrides()))
    stack.up()
    yield stack
    engine.revert_all(stack)
    stack.down(purge=True)


KILL_PARAMS = {
    "connection_hog": {"connections": 3},
    "db_max_connections": {"value": 20},
    "traffic_surge": {"factor": 2, "shape": "constant"},
}


@pytest.fixture(scope="module")
def kill_stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("gd")
    stack = LocalStack("kill9", root, load_config(None, ["proxy.enabled=true", "loadgen.enabled=true",
                                                        "web.request_timeout_s=2", "web.statement_timeout_ms=1500"]))
    stack.up()
    yield stack
    engine.revert_all(stack)
    stack.down(purge=True)


def one_fault_scenario(tmp: Path, kind: str) -> Path:
    doc = {
        "id": f"kill-{kind.replace('_', '-')}", "title": f"{kind} then kill -9", "difficulty": "easy",
        "story": {"told": "test"}, "runbook": "db-connection-exhaustion",
        "stack": {"max_connections": 40, "access_mode": "pool", "workers": 2, "threads": 8, "proxy": True,
                  "request_timeout_s": 2, "statement_timeout_ms": 1500},
        "steady_state": {"window_s": 3},
        "faults": [{"id": "f", "kind": kind, "params": KILL_PARAMS.get(kind, {})}],
        "autopilot": [{"action": "note", "args": {"text": "waiting"}, "at_s": 3600}],
    }
    path = tmp / f"{kind}.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


# `gameday recover` typed before the lease runs out, for one fault of each family; every kind is
# reverted from the journal alone after a kill -9 by the watchdog (tests/faults/test_watchdog_kinds.py)
@pytest.mark.parametrize("kind", ["connection_hog", "db_max_connections", "slow_query", "net_down", "traffic_surge"])
def test_kill_9_of_the_runner_then_recover_leaves_nothing_active(kill_stack, kind, tmp_path, gameday):
    stack = kill_stack
    assert not engine.journal_for(stack).active()
    done_before = sum(r["op"] == "injected" for r in journal(stack))
    proc = spawn_drill(stack.root, stack.name, str(one_fault_scenario(tmp_path, kind)))
    try:
        wait_injected(stack, done_before + 1, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    active = engine.journal_for(stack).active()
    assert [a.kind for a in active.values()] == [kind]
    result = gameday("recover", "--name", stack.name, "--root", str(stack.root))
    assert result.returncode == 0, result.stderr
    assert f"reverted {kind}" in result.stdout
    assert not engine.journal_for(stack).active()
    assert_harm_gone(stack)


def assert_harm_gone(stack: LocalStack) -> None:
    """Independent checks that no fault's harm is left on a stack made like `kill_stack`."""
    assert procs.wait_until(lambda: readyz(stack) == 200, 20, 0.2)
    assert stack.sql("SHOW max_connections") == [("40",)]
    assert stack.sql("SELECT count(*) FROM pg_indexes WHERE indexname = 'best_scores_leaderboard'") == [(1,)]
    # no leaked session left: Arcade's own requests may sit idle in a transaction for a moment
    # between two statements, a leaked one for as long as its holder lives
    assert procs.wait_until(lambda: stack.sql(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade' AND state = 'idle in transaction' "
        "AND state_change < now() - interval '2 seconds'") == [(0,)], 10, 0.5)
    holders = [p for p in psutil.process_iter(["cmdline"])
               if "lab.faults.holder" in (p.info["cmdline"] or []) and str(stack.run_dir) in " ".join(p.info["cmdline"])]
    assert not holders
    with urllib.request.urlopen(f"http://{stack.address('loadgen')}/state", timeout=5) as resp:
        assert json.loads(resp.read())["current_rate"] <= 10.0 + 0.5


# The surge drills come after the kill -9 tests, which need no CPU slot (tests/conftest.py): the
# worker runs those while another file's drill holds a slot.
@pytest.mark.cpu_slot
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_during_the_surge_reverts_every_fault_within_a_second(march_stack, sig):
    stack = march_stack
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, "march-2023-db-overload", "--speed", "10")
    try:
        wait_injected(stack, 2 + sum(r["op"] == "injected" for r in journal(stack)[:before]), proc)
        sent = time.time()
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    reverted = [r for r in journal(stack)[before:] if r["op"] == "reverted"]
    assert len(reverted) == 2
    assert max(r["t"] for r in reverted) - sent < 1.0
    assert not engine.journal_for(stack).active()
    assert procs.wait_until(lambda: readyz(stack) == 200, 15, 0.2)
    assert "halted" in proc.stdout.read()


@pytest.mark.cpu_slot
def test_gameday_halt_stops_the_drill_on_a_stack(march_stack, gameday):
    stack = march_stack
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, "march-2023-db-overload", "--speed", "10")
    try:
        wait_injected(stack, 2 + sum(r["op"] == "injected" for r in journal(stack)[:before]), proc)
        result = gameday("halt", "--name", stack.name, "--root", str(stack.root))
        assert result.returncode == 0, result.stderr
        seconds = float(result.stdout.split(" halted in ")[1].split(" s")[0])
        assert seconds < 1.0
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not engine.journal_for(stack).active()


def test_a_drill_refuses_an_unhealthy_stack_and_injects_nothing(march_stack, gameday):
    stack = march_stack
    stack.service("db").stop()  # broken by hand, not by a journaled fault (a drill reverts those first)
    before = len(journal(stack))
    try:
        result = gameday("drill", "march-2023-db-overload", "--quiet", "--steady-timeout", "6",
                         "--name", stack.name, "--root", str(stack.root))
    finally:
        stack.service("db").start()
    assert result.returncode == 1
    assert "steady state not met" in result.stderr and "no fault was injected" in result.stderr
    assert [r for r in journal(stack)[before:] if r["op"] == "inject"] == []
