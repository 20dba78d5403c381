"""The scenario catalog: every file validates, and each difficulty matches how soon its responders
remove the cause. `gameday verify` over every scenario in scenarios/ (each fault's declared symptom
confirmed by the probe, recovery, the autopilot at par, the wrong turns below it) runs once, in
tests/verify/test_verify_cli.py, and so covers the catalog without a second run here."""

from __future__ import annotations

import pytest

from lab.catalog import CATALOG
from lab.core.runbook import Runbook
from lab.core.scenario import ResponderStep, Scenario
from lab.core.timeline import Event, Source

# The replays of public incidents, and the scenario whose site holds its SLO (slo_breaks: false).
REPLAYS = ("pydis-2020-connection-surge", "flagsmith-2023-migration-lock", "joyent-2015-lock-queue",
           "github-2018-cross-country-latency", "flagsmith-2024-health-check-churn")
HOLDS = ("march-2023-corrective-measures",)


def catalog() -> list[tuple[Scenario, Runbook]]:
    out = []
    for path in CATALOG.scenario_files():
        scenario, _ = CATALOG.load(path)
        out.append((scenario, CATALOG.runbook(scenario.runbook)))
    return out


def first_mitigation_s(steps: list[ResponderStep], runbook: Runbook) -> float | None:
    """Seconds after its anchor at which a responder first does what the runbook calls mitigation."""
    predicates = [m for s in runbook.steps if s.mitigation for m in s.predicates()]
    for step in sorted(steps, key=lambda s: s.at_s):
        kind = f"action.{step.action}"
        event = Event(id=0, wall=0.0, offset_s=step.at_s, source=Source.TEAM, kind=kind, actor="x",
                      data={"action": step.action, "args": dict(step.args), "result": {}})
        if any(not m.result and m.matches(event) for m in predicates):
            return step.at_s
    return None


def difficulty(autopilot_s: float | None, wrong_turns_s: float | None) -> str:
    """easy: the right move within a minute, the wrong path back within five; hard: the right path
    itself needs more than two minutes of evidence, or the wrong one never gets there."""
    if autopilot_s is None or autopilot_s > 120 or wrong_turns_s is None:
        return "hard"
    if autopilot_s <= 60 and wrong_turns_s <= 300:
        return "easy"
    return "medium"


def test_the_catalog_is_there_and_validates(gameday):
    ids = {s.id for s, _ in catalog()}
    assert set(REPLAYS) | {"march-2023-db-overload", "march-2023-corrective-measures"} <= ids
    result = gameday("validate")
    assert result.returncode == 0, result.stderr
    assert all(f"({sid}," in " ".join(result.stdout.split()) for sid in ids)


@pytest.mark.parametrize(("scenario", "runbook"), catalog(), ids=lambda v: getattr(v, "id", ""))
def test_difficulty_matches_the_responders(scenario, runbook):
    auto = first_mitigation_s(scenario.autopilot, runbook)
    wrong = first_mitigation_s(scenario.wrong_turns, runbook)
    assert scenario.difficulty == difficulty(auto, wrong), (scenario.id, auto, wrong)
    if wrong is not None:
        assert auto is not None and auto < wrong, "the wrong-turns responder is slower to the fix"
