"""The drill schedule as a pure function of time and what has happened."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lab.core.scenario import ResponderStep, Scenario
from lab.core.schedule import due, scale_durations

SCENARIO = Scenario.model_validate({
    "id": "s", "title": "S", "difficulty": "easy", "story": {"told": "x"}, "runbook": "r",
    "faults": [
        {"id": "surge", "kind": "traffic_surge", "at_s": 20},
        {"id": "leak", "kind": "connection_hog", "after": "surge", "at_s": 5, "duration_s": 60},
    ],
    "hints": [{"id": "h", "text": "look", "at_s": 100}],
    "autopilot": [{"action": "ack", "after": "alert:SiteAvailabilityLow", "at_s": 10}, {"action": "note", "at_s": 1}],
})
STEPS = list(SCENARIO.autopilot)


def keys(now: float, happened: dict[str, float], done: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    return [d.key for d in due(SCENARIO, STEPS, now, happened, done)]


def test_offsets_and_after():
    assert keys(0, {}) == []
    assert keys(1, {}) == ["respond:1"]
    assert keys(20, {}, {"respond:1"}) == ["inject:surge"]
    assert keys(24, {"fault:surge": 20}, {"respond:1", "inject:surge"}) == []
    assert keys(25, {"fault:surge": 20}, {"respond:1", "inject:surge"}) == ["inject:leak"]


def test_duration_reverts_and_alert_anchors():
    happened = {"fault:surge": 20, "fault:leak": 25, "alert:SiteAvailabilityLow": 40}
    done = {"respond:1", "inject:surge", "inject:leak"}
    assert keys(49, happened, done) == []
    assert keys(50, happened, done) == ["respond:0"]
    assert keys(85, happened, done | {"respond:0"}) == ["revert:leak"]
    assert keys(100, happened, done | {"respond:0", "revert:leak"}) == ["hint:h"]


def test_everything_late_comes_out_in_time_order():
    happened = {"fault:surge": 20, "fault:leak": 25, "alert:SiteAvailabilityLow": 30}
    out = due(SCENARIO, STEPS, 1000, happened, set())
    assert [d.key for d in out] == ["respond:1", "inject:surge", "inject:leak", "respond:0", "revert:leak", "hint:h"]
    assert [d.at_s for d in out] == sorted(d.at_s for d in out)


@given(st.floats(0, 10_000), st.floats(0, 10_000))
def test_nothing_is_due_before_its_time_and_done_is_never_repeated(now, surge_at):
    happened = {"fault:surge": surge_at} if surge_at <= now else {}
    items = due(SCENARIO, STEPS, now, happened, set())
    assert all(d.at_s <= now for d in items)
    assert due(SCENARIO, STEPS, now, happened, {d.key for d in items}) == []


def test_durations_compress_with_speed():
    assert scale_durations({"ramp_s": 20, "connections": 30, "shape": "ramp"}, 10) == {
        "ramp_s": 2.0, "connections": 30, "shape": "ramp"}


def test_responder_step_model_is_strict():
    assert ResponderStep(action="ack").at_s == 0.0
