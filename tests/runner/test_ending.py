"""How a people's drill ends, decided from what the lab measured (pure: lab.runner.ending), and
durations as people type them (lab.core.duration)."""

from __future__ import annotations

import pytest

from lab.core.duration import parse_duration
from lab.runner import ending
from lab.runner.ending import Resolution


def window(**kw: object) -> Resolution:
    return Resolution(by="ines", event_id=40, at_s=694.0, until_s=754.0, **kw)  # type: ignore[arg-type]


def test_the_fix_held_and_every_cause_stayed_gone_is_resolved():
    outcome, data = ending.verdict(window(), present=[], missing=[], availability=0.998, slo_min=0.95)
    assert outcome == ending.RESOLVED
    assert data["by"] == "ines" and data["resolve_event"] == 40 and "held" in data["reason"]
    assert "causes_present" not in data


def test_a_cause_still_there_is_resolved_too_early_with_the_evidence():
    outcome, data = ending.verdict(window(), present=[("leak", "connection_hog")], missing=[], availability=1.0,
                                   slo_min=0.95)
    assert outcome == ending.TOO_EARLY
    assert data["causes_present"] == [{"step": "leak", "kind": "connection_hog"}]
    assert data["slo_broken"] is False
    assert "the cause of 'leak' (connection_hog) is still there" in data["reason"]


def test_a_relapse_or_a_fault_still_to_come_is_resolved_too_early():
    r = window(slo_broken_at_s=730.0)
    r.saw(0.97)
    r.saw(0.41)
    outcome, data = ending.verdict(r, present=[], missing=["surge"], availability=0.6, slo_min=0.95)
    assert outcome == ending.TOO_EARLY and data["slo_broken"] is True
    assert data["availability_min"] == 0.41
    assert "fell to 41.0% (SLO 95%) at t+12:10" in data["reason"]
    assert "fault 'surge' had not even happened yet" in data["reason"]
    outcome, data = ending.verdict(window(), present=[], missing=[], availability=0.90, slo_min=0.95)
    assert outcome == ending.TOO_EARLY and "since the resolve was 90.0%" in data["reason"]


def test_the_facilitator_is_always_told_what_the_drill_waits_for():
    common = dict(now_s=700.0, time_limit_s=9000.0, slo_min=0.95, slo_holds_s=30.0)
    fac, team = ending.waiting(scripted=False, resolution=None, recovered_at_s=None, **common)
    assert "declare it resolved" in fac and "t+2:30:00" in fac and team == ""
    fac, team = ending.waiting(scripted=False, resolution=None, recovered_at_s=650.0, **common)
    assert "recovered at t+10:50" in fac and team == ""
    fac, team = ending.waiting(scripted=True, resolution=None, recovered_at_s=None, **common)
    assert "95%" in fac and "30 drill s" in fac
    fac, team = ending.waiting(scripted=False, resolution=window(), recovered_at_s=None, present=["leak"], **common)
    assert "54 drill s left" in team and "leak" not in team  # the team is not told what is still wrong
    assert fac.startswith(team) and "still present now: leak" in fac


@pytest.mark.parametrize(("text", "seconds"), [("90", 90), ("90s", 90), ("5m", 300), ("1h30m", 5400),
                                                ("2m30s", 150), ("1.5m", 90), (" 10S ", 10)])
def test_durations_as_people_type_them(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "5x", "5m5m", "-5", "5 m", "1e3", "5m!"])
def test_what_is_not_a_duration_says_what_is(text):
    with pytest.raises(ValueError, match="use seconds"):
        parse_duration(text)
