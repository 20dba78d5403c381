"""The March 2023 replay on a real stack: the outage happens, scaling the web tier does not fix
it, the runbook does. Availability is measured by an independent client, not the lab's monitor."""

from __future__ import annotations

import pytest
from drill_watcher import run_drill

from lab.catalog import CATALOG
from lab.core.scenario import ResponderStep
from lab.faults import engine
from lab.runner.drill import Drill
from lab.stack.config import load_config
from lab.stack.local import LocalStack

# Surge drills timed in drill seconds (the site down within a minute of the surge): they take every
# CPU slot (tests/conftest.py), as a neighbour's drill would slow the leak and the outage.
pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot(weight=2)]


@pytest.fixture(scope="module")
def march():
    return CATALOG.load(CATALOG.resolve("march-2023-db-overload"))


@pytest.fixture
def stack(march, run_root):
    s = LocalStack("march", run_root, load_config(None, march[0].stack.overrides()))
    s.up()
    yield s
    s.down(purge=True)


def event_time(drill: Drill, kind: str, **match: object) -> float:
    for event in drill.timeline.read():
        if event.kind == kind and all(event.data.get(k) == v for k, v in match.items()):
            return event.offset_s
    raise AssertionError(f"no {kind} {match} on the timeline")


def test_scaling_the_web_tier_does_not_help_and_the_runbook_does(march, stack):
    scenario, text = march
    wrong_then_right = [
        ResponderStep(action="scale-web", args={"workers": 4}, after="alert:SiteAvailabilityLow", at_s=10),
        ResponderStep(action="terminate-idle-connections", args={"older_than_s": 2, "state": "idle in transaction"},
                      after="alert:SiteAvailabilityLow", at_s=150),
        ResponderStep(action="terminate-idle-connections", args={"older_than_s": 2, "state": "idle in transaction"},
                      after="alert:SiteAvailabilityLow", at_s=175),
    ]
    variant = scenario.model_copy(update={"autopilot": wrong_then_right})
    drill, watch, result = run_drill(variant, text, stack, "autopilot")
    assert result.outcome == "recovered", result
    surge = event_time(drill, "fault.injected", step="surge")
    # the outage: availability below 10 % within a minute of the surge
    down = watch.first_below(0.10, surge)
    assert down is not None and down + 10 <= surge + 60, (surge, down)
    scaled = event_time(drill, "action.scale-web")
    assert drill.timeline.read() and len(stack.web_workers()) == 4
    # four workers instead of two: still down
    assert watch.availability(scaled + 20, scaled + 120) < 0.10
    terminated = event_time(drill, "action.terminate-idle-connections")
    assert terminated > scaled + 120
    assert watch.availability(result.drill_seconds - 25, result.drill_seconds + 1) > 0.9
    assert not engine.journal_for(stack).active()


def test_the_autopilot_follows_the_runbook_and_the_site_heals(march, stack):
    scenario, text = march
    drill, watch, result = run_drill(scenario, text, stack, "autopilot")
    assert result.outcome == "recovered", result
    kinds = [e.kind for e in drill.timeline.read()]
    assert kinds.index("fault.injected") < kinds.index("alert.firing") < kinds.index("ack")
    assert "action.inspect-db" in kinds and "action.terminate-idle-connections" in kinds
    assert kinds[-1] == "drill.ended"
    surge = event_time(drill, "fault.injected", step="surge")
    down = watch.first_below(0.10, surge)
    assert down is not None and down + 10 <= surge + 60, (surge, down)
    assert watch.availability(result.drill_seconds - 25, result.drill_seconds + 1) > 0.9
    assert (result.run_dir / "scenario.yaml").read_text() == text
    assert (result.run_dir / "faults.jsonl").exists()
    assert not engine.journal_for(stack).active()


def test_restarting_the_database_also_restores_service(march, stack):
    """What the original team did, two hours in: it works, because the leak does not come back."""
    scenario, text = march
    restart = [ResponderStep(action="restart", args={"service": "db"}, after="alert:SiteAvailabilityLow", at_s=20)]
    drill, watch, result = run_drill(scenario.model_copy(update={"autopilot": restart}), text, stack, "autopilot")
    assert result.outcome == "recovered", result
    restarted = event_time(drill, "action.restart")
    assert watch.availability(result.drill_seconds - 25, result.drill_seconds + 1) > 0.9
    assert result.drill_seconds > restarted
