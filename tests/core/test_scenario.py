"""Scenario validation (pure): every bad file gets one exact line naming the field."""

from __future__ import annotations

import copy

import pytest
import yaml

from lab.actions import ACTIONS
from lab.core.scenario import ScenarioInvalid, parse_scenario
from lab.faults import FAULT_PARAMS

ALERTS = ["SiteAvailabilityLow", "SiteLatencyHigh", "DbConnectionsSaturated"]
RUNBOOKS = ["db-connection-exhaustion"]

BASE = {
    "id": "tiny",
    "title": "Tiny",
    "difficulty": "easy",
    "story": {"told": "Something is wrong."},
    "faults": [
        {"id": "a", "kind": "connection_hog", "params": {"connections": 3}},
        {"id": "b", "kind": "db_pause", "after": "a", "at_s": 5, "duration_s": 10},
    ],
    "runbook": "db-connection-exhaustion",
    "autopilot": [{"action": "ack", "after": "alert:SiteAvailabilityLow"}],
}


def parse(data: dict) -> object:
    return parse_scenario(yaml.safe_dump(data), FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)


def mutate(path: str, value: object) -> dict:
    data = copy.deepcopy(BASE)
    node: object = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    last = parts[-1]
    if value is DELETE:
        del node[last]  # type: ignore[union-attr]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value  # type: ignore[index]
    return data


DELETE = object()


def test_the_base_scenario_is_valid():
    scenario = parse(BASE)
    assert scenario.faults[1].after == "a" and scenario.success.must_be_gone(["a", "b"]) == ["a", "b"]


@pytest.mark.parametrize(("path", "value", "message"), [
    ("title", DELETE, "title: required field is missing"),
    ("time_limit_s", "soon", "time_limit_s: input should be a valid number, unable to parse string as a number, got 'soon'"),
    ("difficulty", "extreme", "difficulty: input should be 'easy', 'medium' or 'hard', got 'extreme'"),
    ("faults.0.kind", "conection_hog", "faults[0].kind: unknown fault 'conection_hog'; did you mean 'connection_hog'?"),
    ("faults.0.params", {"connections": -1}, "faults[0].params.connections: input should be greater than or equal to 1, got -1"),
    ("faults.0.params", {"conections": 3}, "faults[0].params.conections: unknown field; did you mean 'connections'?"),
    ("faults.0.kindd", "x", "faults[0].kindd: unknown field; did you mean 'kind'?"),
    ("faults.1.id", "a", "faults: duplicate fault id 'a'"),
    ("faults.1.after", "c", "faults[1].after: unknown fault id 'c'"),
    ("faults.0.after", "b", "faults[0].after: circular 'after': a -> b -> a"),
    ("faults.1.after", "alert:SiteAvailabilityLo", "faults[1].after: unknown alert 'SiteAvailabilityLo'; did you mean 'SiteAvailabilityLow'?"),
    ("runbook", "db-conection-exhaustion", "runbook: unknown runbook 'db-conection-exhaustion'; did you mean 'db-connection-exhaustion'?"),
    ("autopilot.0.action", "restart-db", "autopilot[0].action: unknown action 'restart-db'; did you mean 'restart'?"),
    ("autopilot.0.after", "soon", "autopilot[0].after: expected 'alert:<AlertName>' or 'fault:<id>', got 'soon'"),
    ("autopilot", [], "autopilot: needs at least 1 entry"),
    ("success", {"causes_gone": ["z"]}, "success.causes_gone[0]: unknown fault id 'z'"),
    ("alerts", {"disabled": ["DbConnectionSaturated"]}, "alerts.disabled: unknown alert 'DbConnectionSaturated'; did you mean 'DbConnectionsSaturated'?"),
])
def test_bad_scenarios(path, value, message):
    with pytest.raises(ScenarioInvalid) as info:
        parse(mutate(path, value))
    assert str(info.value).startswith(message), str(info.value)
    assert "\n" not in str(info.value)


def test_not_yaml_and_not_a_mapping():
    with pytest.raises(ScenarioInvalid, match="not valid YAML at line 2"):
        parse_scenario("id: x\n  bad: [", FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)
    with pytest.raises(ScenarioInvalid, match="expected a mapping"):
        parse_scenario("- a\n- b\n", FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)


def test_a_huge_refused_value_is_not_echoed_back_whole():
    from pydantic import BaseModel, Field, ValidationError

    from lab.core.errors import first_error

    class Note(BaseModel):
        text: str = Field(max_length=10)

    try:
        Note(text="x" * 100_000)
    except ValidationError as exc:
        message = first_error(exc, Note)
    assert message.startswith("text: string should have at most 10 characters, got 'xxxx")
    assert message.endswith("... (100,000 characters)") and len(message) < 200
