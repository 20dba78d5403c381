"""`gameday halt --all` with real stacks: every drill signalled and every active fault on every stack
under the run root reverted by the time the command returns, who pressed it on the drill's timeline."""

from __future__ import annotations

import getpass
import time

import pytest

from lab.catalog import CATALOG
from lab.faults import engine
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline import rundir
from lab.timeline.store import TimelineStore
from tests.runner.test_halt_recover import journal, one_fault_scenario, spawn_drill, wait_injected

pytestmark = pytest.mark.integration


@pytest.fixture
def stacks(tmp_path):
    root = tmp_path / "gd"
    drill_cfg = CATALOG.load(CATALOG.resolve(str(one_fault_scenario(tmp_path, "db_pause"))))[0].stack.overrides()
    made = {"ha": LocalStack("ha", root, load_config(None, drill_cfg)),
            "hb": LocalStack("hb", root, load_config(None, ["proxy.enabled=false", "loadgen.enabled=false"])),
            "hc": LocalStack("hc", root, load_config(None, ["proxy.enabled=true", "loadgen.enabled=false"]))}
    try:
        for stack in made.values():
            stack.up()
        yield made
    finally:
        for stack in made.values():
            try:
                engine.revert_all(stack)
            finally:
                stack.down(purge=True)


def test_halt_all_stops_every_drill_and_reverts_every_fault_on_every_stack(stacks, tmp_path, gameday):
    ha, hb, hc = stacks["ha"], stacks["hb"], stacks["hc"]
    proc = spawn_drill(ha.root, ha.name, str(tmp_path / "db_pause.yaml"), "--speed", "10")
    try:
        wait_injected(ha, 1, proc)
        engine.inject(hb, "connection_hog", {"connections": 3})
        engine.inject(hc, "net_latency", {"latency_ms": 300})
        engine.inject(hc, "db_max_connections", {"value": 30})
        assert all(engine.journal_for(s).active() for s in stacks.values())
        before = {name: len(journal(s)) for name, s in stacks.items()}
        result = gameday("halt", "--all", "--root", str(ha.root))
        returned = time.time()
        assert result.returncode == 0, result.stderr
        assert proc.wait(timeout=15) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    # every fault reverted within a second of the command returning (in fact before it returns)
    for name, stack in stacks.items():
        assert not engine.journal_for(stack).active(), name
        ours = [r for r in journal(stack)[before[name]:] if r["op"] == "reverted" and r.get("by") == "halt --all"]
        assert ours and max(r["t"] for r in ours) <= returned + 1.0, name
        assert ours[0]["reason"].startswith(f"emergency stop by {getpass.getuser()}@")
    out = result.stdout
    assert "stack 'ha': drill " in out and "signalled; reverted 1 fault(s): db_pause" in out
    assert "stack 'hb': no drill running; reverted 1 fault(s): connection_hog" in out
    assert "stack 'hc': no drill running; reverted 2 fault(s)" in out
    assert "3 stack(s), 1 drill(s) signalled, 4 fault(s) reverted" in out
    # who pressed it, on the drill's timeline; the drill halted as with `gameday halt`
    (run_dir,) = [p for p in rundir.list_runs(ha.root)]
    events = TimelineStore(run_dir / rundir.EVENTS).read()
    pressed = [e for e in events if e.kind == "drill.halt_all"]
    assert len(pressed) == 1 and pressed[0].data["pressed_by"].startswith(getpass.getuser())
    assert [e.data.get("outcome") for e in events if e.kind == "drill.ended"] == ["halted"]


def test_halt_all_with_nothing_running_says_so(tmp_path, gameday):
    result = gameday("halt", "--all", "--root", str(tmp_path / "empty"))
    assert result.returncode == 0, result.stderr
    assert "0 stack(s), 0 drill(s) signalled, 0 fault(s) reverted" in result.stdout
