"""March 2023 after its corrective measures: the same surge and leak, the same autopilot, on the
stack the postmortem's measures leave (PgBouncer, the saturation alert on). The site holds its
SLO; the same drill without the pooler goes down like March. Availability is measured by an
independent client, not the lab's monitor."""

from __future__ import annotations

import pytest

from lab.catalog import CATALOG
from lab.faults import engine
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from drill_watcher import run_drill

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]


@pytest.fixture(scope="module")
def corrective():
    scenario, text = CATALOG.load(CATALOG.resolve("march-2023-corrective-measures"))
    return scenario.model_copy(update={"time_limit_s": 220.0}), text


def drilled(scenario, text, run_root, name):
    stack = LocalStack(name, run_root, load_config(None, scenario.stack.overrides()))
    stack.up()
    try:
        drill, watch, result = run_drill(scenario, text, stack, "autopilot")
        assert not engine.journal_for(stack).active()
        return drill, watch, result, stack.settings()
    finally:
        stack.down(purge=True)


def fired(drill, alert: str) -> float | None:
    return next((e.offset_s for e in drill.timeline.read() if e.kind == "alert.firing" and e.data.get("alert") == alert),
                None)


def test_with_the_pooler_the_surge_and_the_leak_do_not_break_the_slo(corrective, run_root):
    scenario, text = corrective
    drill, watch, result, settings = drilled(scenario, text, run_root, "after")
    assert settings.pooler.enabled and settings.web.access_mode == "per-request"
    surge = next(e.offset_s for e in drill.timeline.read() if e.kind == "fault.injected")
    # the saturation alert warns the team while players are served
    warned = fired(drill, "DbConnectionsSaturated")
    assert warned is not None and fired(drill, "SiteAvailabilityLow") is None
    assert watch.availability(surge, warned) >= 0.99
    assert watch.availability(surge, result.drill_seconds) >= 0.97
    assert watch.first_below(0.9, surge) is None  # no 10-second window below 90 %
    kinds = [e.kind for e in drill.timeline.read()]
    assert "action.terminate-idle-connections" in kinds and result.outcome == "time_limit"


def test_without_the_pooler_the_same_evening_is_an_outage(corrective, run_root):
    scenario, text = corrective
    before = scenario.model_copy(update={"stack": scenario.stack.model_copy(update={"pooler": False})})
    drill, watch, result, settings = drilled(before, text, run_root, "before")
    assert not settings.pooler.enabled
    surge = next(e.offset_s for e in drill.timeline.read() if e.kind == "fault.injected")
    down = watch.first_below(0.5, surge)
    assert down is not None, "without PgBouncer the per-request connections run out as on 5 March"
    assert fired(drill, "SiteAvailabilityLow") is not None
    assert result.outcome == "recovered"  # the same autopilot ends the leak and the site comes back
    assert watch.availability(result.drill_seconds - 25, result.drill_seconds + 1) > 0.9
