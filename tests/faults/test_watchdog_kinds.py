"""Every kind of fault outlives no drill: a drill killed with kill -9 right after injecting it has
it reverted by the stack's watchdog, with no command typed, within its lease + 5 s; the journal
says the watchdog did it, the run's timeline ends with drill.aborted (runner lost), and the harm is
gone by independent checks (the site serves, the settings, indexes, sessions and load are back)."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from lab.core.timeline import Source
from lab.faults import FAULTS, engine
from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline import rundir
from lab.timeline.store import TimelineStore
from tests.runner.test_halt_recover import assert_harm_gone, journal, one_fault_scenario, readyz, spawn_drill, wait_injected

pytestmark = pytest.mark.integration

SPEED = "10"  # a compressed drill: its lease is 5 s (lab.core.lease.drill_terms)
LEASE_S = 5.0
KINDS = [kind for kind, fault in FAULTS.items() if not fault.instant]  # an instant one leaves nothing to revert


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    root = tmp_path_factory.mktemp("gd")
    stack = LocalStack("dogs", root, load_config(None, ["proxy.enabled=true", "loadgen.enabled=true",
                                                       "web.request_timeout_s=2", "web.statement_timeout_ms=1500"]))
    stack.up()
    try:
        yield stack
    finally:
        engine.revert_all(stack)
        stack.down(purge=True)


def copied(run_dir) -> list[str]:
    """The run's copy of the journal (the watchdog writes it last, after the timeline)."""
    try:
        return [line for line in (run_dir / rundir.FAULTS).read_text().splitlines() if line]
    except OSError:
        return []


@pytest.mark.parametrize("kind", KINDS)
def test_a_drill_killed_with_kill_9_has_its_fault_reverted_by_the_watchdog(stack, kind, tmp_path, gameday):
    assert not engine.journal_for(stack).active()
    before = len(journal(stack))
    proc = spawn_drill(stack.root, stack.name, str(one_fault_scenario(tmp_path, kind)), "--speed", SPEED)
    try:
        wait_injected(stack, sum(r["op"] == "injected" for r in journal(stack)) + 1, proc)
        if kind == "connection_hog":  # past its first lease: the drill renews it, nothing is reverted
            time.sleep(LEASE_S + 1.5)
            (held,) = engine.journal_for(stack).active().values()
            assert held.kind == kind and held.lease_until > time.time()
            assert sum(r["op"] == "renew" for r in journal(stack)[before:]) >= 3
        os.kill(proc.pid, signal.SIGKILL)
        killed = time.time()
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    # no command typed: the watchdog sees the lease run out and reverts
    assert procs.wait_until(lambda: not engine.journal_for(stack).active(), LEASE_S + 5, 0.1)
    assert procs.wait_until(lambda: readyz(stack) == 200, max(0.5, killed + LEASE_S + 5 - time.time()), 0.1)
    reverted = [r for r in journal(stack)[before:] if r["op"] == "reverted"]
    assert [(r["kind"], r.get("by"), r.get("reason")) for r in reverted] == [(kind, "watchdog", "runner lost")]
    assert reverted[0]["t"] - killed <= LEASE_S + 5
    assert_harm_gone(stack)
    run_id = reverted[0]["run_id"]
    run_dir = rundir.runs_dir(stack.root) / run_id
    # the watchdog writes the journal first, then the run's timeline: wait for its last word there
    assert procs.wait_until(lambda: TimelineStore(run_dir / rundir.EVENTS).read()[-1].kind == "drill.aborted", 5, 0.1)
    events = TimelineStore(run_dir / rundir.EVENTS).read()
    assert events[-1].kind == "drill.aborted" and events[-1].source is Source.RUNNER
    assert events[-1].data["reason"] == "runner lost" and events[-1].data["runner_alive"] is False
    assert any(e.kind == "fault.reverted" and e.data.get("by") == "watchdog" for e in events)
    assert not (stack.run_dir / rundir.DRILL_MARKER).exists()  # the dead runner's marker is gone
    assert procs.wait_until(lambda: len(copied(run_dir)) >= 4, 5, 0.1)
    # inject, injected, revert, reverted: the run's part of the journal
    assert [json.loads(line)["op"] for line in copied(run_dir)][-2:] == ["revert", "reverted"]
    if kind == "db_pause":  # a crashed run stays a run: scored and reported, saying it was aborted
        score = gameday("score", run_id, "--root", str(stack.root))
        assert score.returncode == 0, score.stderr
        assert "drill outcome: aborted (the drill's process was lost" in score.stdout
        report = gameday("report", run_id, "--root", str(stack.root))
        assert report.returncode == 0, report.stderr
        text = (run_dir / rundir.REPORT_MD).read_text()
        assert "Outcome: aborted" in text and "Drill aborted: runner lost" in text
        assert "aborted" in (run_dir / rundir.REPORT_HTML).read_text()
