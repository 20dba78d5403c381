"""A fault's helper process, through the one scaffolding every helper uses (lab.faults.helper): it is
started and waited for until ready, keeps its state in a file written whole, is found again by its
state file when the journal has no pid (a crash between spawning and journaling), and stops soon
after SIGTERM even while it sleeps. The helper here is the balancer of health_check_churn, with
nothing to replace: a refused health check and a master without workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from lab.faults.base import FaultContext
from lab.faults.helper import Helper, read_state
from lab.stack import procs


@pytest.fixture
def ctx(tmp_path):
    stack = SimpleNamespace(run_dir=tmp_path)  # the helper uses only the stack's run dir
    return FaultContext(stack, "churn-1")  # type: ignore[arg-type]


@pytest.fixture
def master():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def start(ctx, master: int, every_ms: int) -> tuple[Helper, dict]:
    balancer = Helper(ctx, "churn")
    data = balancer.start("lab.faults.churn_worker", "--url", "http://127.0.0.1:1/readyz", "--master", str(master),
                          "--dsn", "host=127.0.0.1 port=1 dbname=x", "--every-ms", str(every_ms),
                          "--unhealthy-after", "1000000", ready=lambda state: state.get("checks", 0) >= 1)
    return balancer, data


def test_a_helper_is_ready_when_it_says_so_and_is_found_by_its_state_file(ctx, master):
    balancer, data = start(ctx, master, every_ms=50)
    try:
        state = balancer.state()
        assert state["worker_pid"] == data["pid"] and state["checks"] >= 1 and state["failures"] >= 1
        assert balancer.path == ctx.state_dir / "churn-1.churn.json"
        assert balancer.pid({}) == data["pid"]  # no pid journaled: found by its --state argument
        assert balancer.alive(data)
        time.sleep(0.3)
        assert read_state(balancer.path)["checks"] > state["checks"]  # always whole JSON, still counting
    finally:
        balancer.stop(data)
    assert not procs.alive(data["pid"])
    assert balancer.pid({}) is None


def test_sigterm_stops_a_sleeping_helper_at_once(ctx, master):
    balancer, data = start(ctx, master, every_ms=30_000)  # it sleeps half a minute between checks
    try:
        sent = time.monotonic()
        os.kill(data["pid"], signal.SIGTERM)
        assert procs.wait_until(lambda: not procs.alive(data["pid"]), 2.0, 0.02)
        assert time.monotonic() - sent < 1.0
    finally:
        balancer.stop(data, signal.SIGKILL)


def test_a_helper_stops_by_itself_once_its_fault_lease_runs_out(ctx, master):
    from lab.faults.journal import FaultJournal

    journal = FaultJournal(ctx.stack.run_dir / "faults.jsonl")
    balancer, data = start(ctx, master, every_ms=30_000)  # asleep between checks: the lease still wakes it
    try:
        journal.append("inject", "churn-1", "health_check_churn", run_id="run-1", lease_until=time.time() + 2.5)
        time.sleep(1.0)
        journal.renew("run-1", time.time() + 3.0)  # renewed: it keeps running past the first expiry
        time.sleep(2.0)
        assert procs.alive(data["pid"])
        gone = journal.active()["churn-1"].lease_until  # nobody renews any more: it ends soon after
        assert procs.wait_until(lambda: not procs.alive(data["pid"]), 5.0, 0.05)
        assert time.time() - gone <= 2.0
        assert "stopping by itself: its lease ran out" in (ctx.stack.run_dir / "logs" / "fault-churn-1.log").read_text()
    finally:
        balancer.stop(data, signal.SIGKILL)


def test_a_helper_whose_fault_the_journal_says_was_reverted_stops_and_one_unknown_to_it_runs_on(ctx, master):
    from lab.faults.journal import FaultJournal

    journal = FaultJournal(ctx.stack.run_dir / "faults.jsonl")
    balancer, data = start(ctx, master, every_ms=30_000)  # no line for churn-1 yet: it runs on
    try:
        time.sleep(1.0)
        assert procs.alive(data["pid"])
        journal.append("inject", "churn-1", "health_check_churn")  # no lease: it runs on
        time.sleep(1.0)
        assert procs.alive(data["pid"])
        journal.append("reverted", "churn-1", "health_check_churn", by="watchdog")
        assert procs.wait_until(lambda: not procs.alive(data["pid"]), 2.0, 0.05)
    finally:
        balancer.stop(data, signal.SIGKILL)
