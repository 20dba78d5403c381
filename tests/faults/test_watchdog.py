"""The fault watchdog of the embedded stack, with real processes: one watchdog per stack from up to
down, a hand fault's lease running out, the helpers stopping by themselves with the drill and the
watchdog both killed, and a stalled drill reverted like a crashed one. (Every fault kind reverted
after a kill -9 of its drill: test_watchdog_kinds.py.)"""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

from lab.faults import engine, watchdog
from lab.faults.journal import ActiveFault
from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.stack.local import watchdog as watchdog_proc
from lab.timeline import rundir
from lab.timeline.store import TimelineStore
from tests.runner.test_halt_recover import journal, one_fault_scenario, spawn_drill, wait_injected

pytestmark = pytest.mark.integration

SPEED = "10"  # a compressed drill: its lease is 5 s (lab.core.lease.drill_terms)
LEASE_S = 5.0


def fault(fid: str, lease_until: float | None) -> ActiveFault:
    return ActiveFault(fid, "db_pause", {}, {}, None, 0.0, True, lease_until)


def test_only_faults_whose_lease_ran_out_are_due_newest_first():
    active = {f.fault_id: f for f in (fault("a", 10.0), fault("b", None), fault("c", 30.0), fault("d", 5.0))}
    assert [f.fault_id for f in watchdog.expired_faults(active, 20.0)] == ["d", "a"]
    assert watchdog.expired_faults(active, 1.0) == []


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("gd")
    stack = LocalStack("watch", root, load_config(None, ["proxy.enabled=true", "loadgen.enabled=true",
                                                        "web.request_timeout_s=2", "web.statement_timeout_ms=1500"]))
    stack.up()
    try:
        yield stack
    finally:
        pid = watchdog_proc.running(stack.run_dir)
        engine.revert_all(stack)
        stack.down(purge=True)
        assert pid is None or not procs.alive(pid)  # down stops the watchdog too


def test_the_stack_runs_one_watchdog_from_up_to_down(stack):
    pid = watchdog_proc.running(stack.run_dir)
    assert pid is not None
    assert "lab.faults.watchdog" in psutil.Process(pid).cmdline()


def test_a_hand_fault_with_a_lease_is_reverted_when_it_runs_out_and_one_without_stays(stack, gameday):
    before = len(journal(stack))
    root = ("--name", stack.name, "--root", str(stack.root))
    leased = gameday("inject", "net_latency", "latency_ms=50", "--lease", "1s", *root)
    assert leased.returncode == 0, leased.stderr
    assert "lease 1 s" in leased.stdout
    kept = gameday("inject", "db_max_connections", "value=30", "--id", "kept", *root)
    assert kept.returncode == 0, kept.stderr
    try:
        assert procs.wait_until(lambda: list(engine.journal_for(stack).active()) == ["kept"], 4, 0.1)
        reverted = [r for r in journal(stack)[before:] if r["op"] == "reverted"]
        assert [(r["kind"], r.get("by"), r.get("reason")) for r in reverted] == [("net_latency", "watchdog", "lease expired")]
        time.sleep(1.0)
        assert list(engine.journal_for(stack).active()) == ["kept"]  # no lease: the watchdog leaves it
        listed = gameday("faults", *root)
        assert "active\tkept\tdb_max_connections\tvalue=30\tno lease" in listed.stdout.splitlines()  # piped: one row
    finally:
        engine.revert_all(stack)


def test_with_the_drill_and_the_watchdog_both_killed_the_fault_helper_exits_by_itself_within_its_lease(stack, tmp_path):
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, str(one_fault_scenario(tmp_path, "connection_hog")), "--speed", SPEED)
    dog = watchdog_proc.running(stack.run_dir)
    assert dog is not None
    try:
        wait_injected(stack, sum(r["op"] == "injected" for r in journal(stack)) + 1, proc)
        (holder_pid,) = [r["data"]["pid"] for r in journal(stack)[before:] if r["op"] == "injected"]
        assert procs.alive(holder_pid)
        os.kill(dog, signal.SIGKILL)
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait(timeout=10)
        assert procs.wait_until(lambda: not procs.alive(holder_pid), LEASE_S + 3, 0.1)
        assert time.time() - killed <= LEASE_S + 3
        # its sessions went with it: the leak is gone though nobody reverted the fault
        assert procs.wait_until(lambda: stack.sql(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'arcade' "
            "AND state = 'idle in transaction' AND state_change < now() - interval '2 seconds'") == [(0,)], 5, 0.2)
        assert [a.kind for a in engine.journal_for(stack).active().values()] == ["connection_hog"]
    finally:
        if proc.poll() is None:
            proc.kill()
        engine.revert_all(stack)
        procs.alive(dog)  # reap
        watchdog_proc.start(stack.run_dir, stack.name, stack.root, stack.log_path("watchdog"))


def test_a_drill_stalled_past_its_lease_is_reverted_like_a_crash_and_resumed_injects_nothing(stack, tmp_path):
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, str(one_fault_scenario(tmp_path, "net_latency")), "--speed", SPEED)
    try:
        wait_injected(stack, sum(r["op"] == "injected" for r in journal(stack)) + 1, proc)
        os.kill(proc.pid, signal.SIGSTOP)
        assert procs.wait_until(lambda: not engine.journal_for(stack).active(), LEASE_S + 5, 0.1)
        os.kill(proc.pid, signal.SIGCONT)
        assert proc.wait(timeout=20) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.kill()
    ops = [(r["op"], r.get("by")) for r in journal(stack)[before:] if r["op"] != "renew"]
    assert ops[:4] == [("inject", None), ("injected", None), ("revert", "watchdog"), ("reverted", "watchdog")]
    assert [op for op, _ in ops].count("inject") == 1  # resumed, it re-injected nothing
    assert not engine.journal_for(stack).active()
    out = proc.stdout.read()
    assert "aborted" in out
    run_dir = rundir.runs_dir(stack.root) / journal(stack)[before]["run_id"]
    kinds = [e.kind for e in TimelineStore(run_dir / rundir.EVENTS).read()]
    assert "drill.aborted" in kinds and kinds[-1] == "drill.ended"
