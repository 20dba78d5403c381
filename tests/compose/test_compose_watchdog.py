"""The compose stack's fault watchdog runs in the stack (its `watchdog` service), so it outlives the
lab's process on the host: a drill killed with kill -9 mid-drill has its fault reverted by the
watchdog container within the lease + 5 s, with no command typed; a hand fault with a lease whose
revert recreates a service (bad_deploy) is reverted from inside the stack too."""

from __future__ import annotations

import os
import signal
import time

import pytest

from lab.faults import engine
from lab.stack import procs
from lab.timeline import rundir
from lab.timeline.store import TimelineStore
from tests.runner.test_halt_recover import journal, one_fault_scenario, readyz, spawn_drill, wait_injected

pytestmark = pytest.mark.integration

LEASE_S = 5.0  # a drill at --speed 10 (lab.core.lease.drill_terms)


@pytest.fixture(scope="module")
def stack(compose_stack):
    return compose_stack("proxy.enabled=true", "loadgen.enabled=true", "web.request_timeout_s=2",
                         "web.statement_timeout_ms=1500", "web.workers=2")


def test_the_watchdog_runs_in_the_stack_as_the_lab_image_on_the_hosts_network(stack, docker_engine):
    found = stack.watchdog()
    assert found is not None, "no running watchdog container"
    details = docker_engine.api.inspect_container(found["Id"])
    assert details["HostConfig"]["NetworkMode"] == "host" and details["HostConfig"]["PidMode"] == "host"
    assert "lab.faults.watchdog" in " ".join(details["Config"]["Cmd"])
    mounts = {m["Destination"]: m["Source"] for m in details["Mounts"]}
    assert mounts[str(stack.root.absolute())] == str(stack.root.absolute())  # the journal, at the host's path


def test_a_drill_killed_on_the_host_has_its_fault_reverted_by_the_watchdog_in_the_stack(stack, tmp_path):
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, str(one_fault_scenario(tmp_path, "db_pause")), "--speed", "10")
    try:
        wait_injected(stack, sum(r["op"] == "injected" for r in journal(stack)) + 1, proc, timeout=120)
        assert stack.state().services["db"].paused
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert procs.wait_until(lambda: not engine.journal_for(stack).active(), LEASE_S + 5, 0.1)
    assert procs.wait_until(lambda: readyz(stack) == 200, max(1.0, killed + LEASE_S + 5 - time.time()), 0.2)
    assert not stack.state().services["db"].paused
    reverted = [r for r in journal(stack)[before:] if r["op"] == "reverted"]
    assert [(r["kind"], r.get("by"), r.get("reason")) for r in reverted] == [("db_pause", "watchdog", "runner lost")]
    run_dir = rundir.runs_dir(stack.root) / reverted[0]["run_id"]
    assert procs.wait_until(lambda: TimelineStore(run_dir / rundir.EVENTS).read()[-1].kind == "drill.aborted", 5, 0.1)
    aborted = TimelineStore(run_dir / rundir.EVENTS).read()[-1]
    assert aborted.data["reason"] == "runner lost" and aborted.data["runner_alive"] is False
    assert "reverted db_pause" in stack.project_api.logs("watchdog", 20)


def test_a_hand_fault_that_recreates_a_service_is_reverted_from_inside_the_stack(stack, gameday):
    before = len(journal(stack))
    root = ("--name", stack.name, "--root", str(stack.root))
    result = gameday("inject", "bad_deploy", "--lease", "1s", *root)
    assert result.returncode == 0, result.stderr
    assert procs.wait_until(lambda: not engine.journal_for(stack).active(), 90, 0.2)
    reverted = [r for r in journal(stack)[before:] if r["op"] == "reverted"]
    assert [(r["kind"], r.get("by"), r.get("reason")) for r in reverted] == [("bad_deploy", "watchdog", "lease expired")]
    assert stack.settings().web.flags == []
    assert procs.wait_until(lambda: readyz(stack) == 200, 30, 0.2)
