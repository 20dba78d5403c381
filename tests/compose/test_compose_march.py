"""The March 2023 replay on the compose stack, as on the embedded one: the surge and the leak take
the site down, the autopilot follows the runbook, the site heals. Availability is measured by an
independent client through the site's front door (Toxiproxy's `arcade` listener)."""

from __future__ import annotations

import time

import pytest
from drill_watcher import Watcher

from lab.catalog import CATALOG
from lab.faults import engine
from lab.runner.drill import Drill, DrillOptions

# A surge drill on containers: it takes every CPU slot (tests/conftest.py). Per-request
# Arcade on a starved machine can tip into an overload that outlasts the leak (connections time
# out while they are made, their slots still taken), and then the drill never heals.
pytestmark = pytest.mark.cpu_slot(weight=2)

SPEED = 10.0


@pytest.fixture(scope="module")
def march():
    return CATALOG.load(CATALOG.resolve("march-2023-db-overload"))


def test_the_autopilot_follows_the_runbook_and_the_site_heals_on_compose(march, compose_stack):
    scenario, text = march
    stack = compose_stack(*scenario.stack.overrides())
    assert stack.kind == "compose"
    drill = Drill(scenario, text, stack, DrillOptions(speed=SPEED, responder="autopilot"))
    watch = Watcher(stack.urls()["arcade"] + "leaderboard?game=tetra", drill)
    watch.thread.start()
    try:
        result = drill.run()
        time.sleep(4)  # the site after the drill: the leak gone, the traffic back to its baseline
    finally:
        watch.stop.set()
        watch.thread.join()
    assert result.outcome == "recovered", result
    events = drill.timeline.read()
    kinds = [e.kind for e in events]
    assert kinds.index("fault.injected") < kinds.index("alert.firing") < kinds.index("ack")
    assert "action.inspect-db" in kinds and "action.terminate-idle-connections" in kinds
    assert kinds[-1] == "drill.ended"
    surge = next(e.offset_s for e in events if e.kind == "fault.injected" and e.data.get("step") == "surge")
    # the outage comes from the faults, not from the fix: most requests fail before the autopilot's
    # first mitigation (how soon after the surge depends on how starved the machine is)
    mitigated = min(e.offset_s for e in events if e.kind in ("action.terminate-idle-connections", "action.restart"))
    down = watch.first_below(0.50, surge)
    assert down is not None and down < mitigated, (surge, down, mitigated)
    assert watch.availability(result.drill_seconds, result.drill_seconds + 40) > 0.9
    terminated = [e for e in events if e.kind == "action.terminate-idle-connections"]
    assert sum(e.data["result"]["terminated"] for e in terminated) >= 20  # the leak, ended for real
    assert (result.run_dir / "sli.jsonl").stat().st_size > 0  # the monitor sampled the compose stack
    assert not engine.journal_for(stack).active()
