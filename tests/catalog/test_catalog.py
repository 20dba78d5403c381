"""The scenario catalog: every file validates; each difficulty matches how soon its responders
remove the cause; `gameday verify` passes over the incident replays, each fault's declared
symptom confirmed by verify's own probe-based checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lab.core.runbook import Runbook
from lab.core.scenario import ResponderStep, Scenario
from lab.core.timeline import Event, Source
from lab.report.load import load_runbook, runbook_path
from lab.runner import scenarios

# The catalog's new scenarios, verified here (march-2023-db-overload is verify's own example, in
# tests/verify). The corrective-measures one holds its SLO (slo_breaks: false).
REPLAYS = ("pydis-2020-connection-surge", "flagsmith-2023-migration-lock", "joyent-2015-lock-queue",
           "github-2018-cross-country-latency", "flagsmith-2024-health-check-churn")
HOLDS = ("march-2023-corrective-measures",)


def catalog() -> list[tuple[Scenario, Runbook]]:
    out = []
    for path in scenarios.scenario_files():
        scenario, _ = scenarios.load(path)
        out.append((scenario, load_runbook(runbook_path(scenario.runbook))))
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


@pytest.mark.integration
def test_verify_passes_over_the_new_scenarios(gameday, tmp_path):
    junit = tmp_path / "verify.xml"
    result = gameday("verify", *REPLAYS, *HOLDS, "--jobs", "2", "--junit", str(junit), timeout=1200)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    suites = {s.get("name"): s for s in ET.parse(junit).getroot().iter("testsuite")}
    assert set(suites) == set(REPLAYS) | set(HOLDS)
    for sid, suite in suites.items():
        scenario, _ = scenarios.load(scenarios.resolve(sid))
        props = {p.get("name"): p.get("value") for p in suite.iter("property")}
        statuses = {name[:-len(".status")]: value for name, value in props.items() if name.endswith(".status")}
        for step in scenario.faults:  # every fault's declared symptom was seen by the probe
            assert statuses.get(f"symptom[{step.id}]") == "passed", (sid, step.id, statuses)
        slo = "slo_breach" if scenario.slo_breaks else "slo_holds"
        for check in ("steady_state", slo, "recovery", "autopilot_score", "wrong_turns", "teardown"):
            assert statuses.get(check) == "passed", (sid, check, statuses)
        assert float(props["wrong_turns.score"]) < float(props["autopilot_score.score"])
        if scenario.slo_breaks:
            assert float(props["recovery.recovered_at_s"]) <= scenario.time_limit_s
