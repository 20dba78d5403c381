"""Scoring: table-driven paths through the March runbook, and properties that must always hold."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.actions import ACTIONS
from lab.catalog import load_runbook, CATALOG
from lab.core.original import path_timeline
from lab.core.scoring import Sample, Timeline, score
from lab.core.timeline import Event, Source

PROJECT = Path(__file__).resolve().parents[2]
RUNBOOK = load_runbook(PROJECT / "runbooks" / "db-connection-exhaustion.md")
SCENARIO, _ = CATALOG.load(PROJECT / "scenarios" / "march-2023-db-overload.yaml")


def ev(i: int, t: float, kind: str, source: Source = Source.TEAM, **data: object) -> Event:
    return Event(id=i, wall=1e9 + t, offset_s=t, source=source, kind=kind, actor="x", data=dict(data))


def act(i: int, t: float, name: str, args: dict | None = None, result: dict | None = None) -> Event:
    kind = name if name in ("ack", "role", "update", "note", "escalate", "resolve") else f"action.{name}"
    return ev(i, t, kind, action=name, args=args or {}, result=result or {}, ok=True)


def probe(down_from: float, up_at: float, until: float = 900.0, every: float = 5.0) -> tuple[Sample, ...]:
    return tuple(Sample(t * every, 10, 0 if down_from <= t * every < up_at else 10) for t in range(int(until / every)))


BEFORE = [ev(1, 0, "drill.started", Source.RUNNER, scenario="march"), ev(2, 20, "fault.injected", Source.RUNNER, step="surge"),
          ev(3, 60, "alert.firing", Source.MONITOR, alert="SiteAvailabilityLow", value=0.0)]
IDEAL = [
    *BEFORE,
    act(4, 70, "ack"),
    act(5, 75, "role", {"role": "IC", "name": "ann"}),
    act(6, 80, "update", {"audience": "internal", "text": "Arcade down; next update in 30 min."}),
    act(7, 90, "inspect-db"),
    act(8, 100, "check-network"),
    act(9, 110, "note", {"hypothesis": "db-connections-exhausted", "text": "leaked sessions"}),
    act(10, 120, "terminate-idle-connections", {"older_than_s": 2}, {"terminated": 36}),
    act(11, 150, "inspect-db"),
    act(12, 160, "update", {"audience": "external", "text": "recovering"}),
    act(13, 170, "note", {"text": "TODO: alert on connections above 90 %"}),
]
IDEAL_TL = Timeline(tuple(IDEAL), probe(50, 140))
ORIGINAL_TL = path_timeline(CATALOG.original(SCENARIO))
FORBIDDEN_TL = replace(ORIGINAL_TL, events=(*ORIGINAL_TL.events,
                                            ev(99, 6000, "shell.command", command="psql -c 'DROP TABLE sessions'")))
HERRINGS = [act(20, 72, "note", {"hypothesis": "network-failure", "text": "network?"}),
            act(21, 74, "escalate", {"team": "network"}),
            act(22, 85, "scale-web", {"workers": 4}, {"before": 2, "after": 4, "direction": "up"})]
HERRING_TL = Timeline(tuple(IDEAL + HERRINGS), probe(50, 140))
UNKNOWN_TL = Timeline(tuple(IDEAL + [ev(30, 95, "chat.message", text="hi"), ev(31, 96, "mystery", Source.RUNNER)]),
                      probe(50, 140))


def card(tl: Timeline):
    return score(tl, RUNBOOK, SCENARIO)


@pytest.mark.parametrize("timeline, component, low, high, reason", [
    (IDEAL_TL, "impact", 24, 25, "of full outage burned"),
    (IDEAL_TL, "adherence", 20, 20, "6/6 required steps done"),
    (IDEAL_TL, "diagnosis", 15, 15, "no red herrings pursued"),
    (IDEAL_TL, "coordination", 15, 15, "incident commander named 5 s after the acknowledgement"),
    (IDEAL_TL, "learning", 5, 5, "1 follow-up(s) noted with TODO:"),
    (ORIGINAL_TL, "impact", 0, 5, "the fault: 150 min 00 s of full outage burned"),
    (ORIGINAL_TL, "impact", 0, 5, "1 restart(s) by the team failed 0 s of requests beyond the fault's own"),
    (ORIGINAL_TL, "phase_times", 6, 12, "alert to the correct diagnosis backed by evidence: 90 min 00 s"),
    (ORIGINAL_TL, "diagnosis", 0, 6, "4 red herring(s) (blame-network, blame-web, page-network-team, scale-web-up)"),
    (ORIGINAL_TL, "adherence", 5, 15, "missing: ic, first-update"),
    (ORIGINAL_TL, "coordination", 0, 0, "no incident commander named"),
    (FORBIDDEN_TL, "adherence", 0, 0, "forbidden: destructive-sql; adherence counts zero"),
    (HERRING_TL, "diagnosis", 0, 12, "3 red herring(s)"),
    (HERRING_TL, "diagnosis", 0, 12, "scale-web-up"),
    (Timeline(), "impact", 0, 0, "no probe measurements"),
    (Timeline(), "coordination", 0, 0, "no incident commander named"),
    (Timeline(), "adherence", 0, 0, "0/6 required steps done; missing: ack, ic, first-update, inspect-db, hypothesis, mitigate"),
])
def test_components_and_reasons(timeline, component, low, high, reason):
    comp = card(timeline).component(component)
    assert low <= comp.points <= high, comp
    assert any(reason in p.reason for p in comp.items), [p.reason for p in comp.items]


def test_every_point_names_its_evidence():
    c = card(IDEAL_TL)
    ack = c.component("phase_times").items[0]
    assert ack.evidence == (4,) and ack.points == ack.max
    assert c.component("adherence").items[0].evidence == (4, 5, 6, 7, 9, 10)
    herring = card(HERRING_TL).component("diagnosis").items[0]
    assert set(herring.evidence) == {20, 21, 22}


def test_the_ideal_beats_the_original_which_beats_a_forbidden_action():
    ideal, original, forbidden = card(IDEAL_TL), card(ORIGINAL_TL), card(FORBIDDEN_TL)
    assert ideal.total > original.total > forbidden.total
    assert ideal.passed and not original.passed
    assert forbidden.cap is not None and forbidden.total <= 25 and forbidden.cap.evidence == (99,)
    assert [c.rating for c in ideal.components] == ["P"] * 6
    assert original.component("impact").rating == "U" and original.component("coordination").rating == "U"


def test_an_empty_timeline_scores_zero():
    c = card(Timeline())
    assert c.total == 0 and c.phases.origin_s is None
    assert all(comp.rating == "U" for comp in c.components)


def test_unknown_event_kinds_are_counted_and_change_nothing():
    base, with_unknown = card(IDEAL_TL), card(UNKNOWN_TL)
    assert with_unknown.total == base.total and with_unknown.components == base.components
    assert with_unknown.ignored == 2


def test_order_violation_and_late_step():
    events = [*BEFORE, act(4, 70, "ack"), act(5, 80, "terminate-idle-connections"), act(6, 2000, "inspect-db")]
    adherence = card(Timeline(tuple(events), probe(50, 140))).component("adherence")
    assert "mitigate before inspect-db" in adherence.items[1].reason and adherence.items[1].evidence == (5,)
    assert "late or missing: ic, first-update, inspect-db, hypothesis" in adherence.items[2].reason


def test_same_input_same_card():
    assert json.dumps(card(ORIGINAL_TL).to_dict()) == json.dumps(card(path_timeline(CATALOG.original(SCENARIO))).to_dict())


# --- properties ------------------------------------------------------------------------------

paths = st.sampled_from([IDEAL_TL, ORIGINAL_TL, HERRING_TL, FORBIDDEN_TL, Timeline(tuple(IDEAL[:6]), probe(50, 700))])
herring_events = st.sampled_from([
    ("note", {"hypothesis": "network-failure", "text": "network"}), ("escalate", {"team": "network"}),
    ("note", {"hypothesis": "web-overloaded", "text": "web"}), ("restart", {"service": "web"}),
    ("scale-web", {"workers": 8}),
])


@settings(max_examples=60, deadline=None)
@given(paths)
def test_the_score_stays_within_bounds(tl):
    c = card(tl)
    assert 0 <= c.total <= 100
    for comp in c.components:
        assert 0 <= comp.points <= comp.weight + 1e-9
        assert all(0 <= p.points <= p.max + 1e-9 for p in comp.items)


@settings(max_examples=80, deadline=None)
@given(paths, herring_events, st.floats(min_value=0, max_value=9000))
def test_adding_a_red_herring_never_raises_the_score(tl, herring, at):
    name, args = herring
    result = {"direction": "up"} if name == "scale-web" else {}
    extra = act(1000, at, name, args, result)
    assert card(replace(tl, events=(*tl.events, extra))).total <= card(tl).total


@settings(max_examples=60, deadline=None)
@given(paths, st.floats(min_value=0, max_value=5000), st.booleans())
def test_shifting_events_later_never_raises_the_phase_time_score(tl, delay, team_only):
    shifted = tuple(e._replace(offset_s=e.offset_s + delay) if (e.source == Source.TEAM or not team_only) else e
                    for e in tl.events)
    assert card(replace(tl, events=shifted)).component("phase_times").points <= card(tl).component("phase_times").points + 1e-9


@settings(max_examples=60, deadline=None)
@given(paths, st.randoms(use_true_random=False))
def test_reordering_events_leaves_the_score_unchanged(tl, rnd):
    events = list(tl.events)
    rnd.shuffle(events)
    assert card(replace(tl, events=tuple(events))) == card(tl)


def responder_path(steps, alert_at: float, fixed_by: str) -> Timeline:
    """A scenario's scripted responder as a timeline; players are affected until `fixed_by` ran (+30 s)."""
    events = list(BEFORE[:2]) + [ev(3, alert_at, "alert.firing", Source.MONITOR, alert="SiteAvailabilityLow")]
    fixed = None
    for i, step in enumerate(sorted(steps, key=lambda s: s.at_s), start=10):
        result = {"direction": "up"} if step.action == "scale-web" else {}
        events.append(act(i, alert_at + step.at_s, step.action, dict(step.args), result))
        if step.action == fixed_by and fixed is None:
            fixed = alert_at + step.at_s
    assert fixed is not None
    return Timeline(tuple(events), probe(alert_at - 20, fixed + 30, until=fixed + 300, every=10))


def test_the_scenarios_autopilot_reaches_par_and_its_wrong_turns_do_not():
    autopilot = card(responder_path(SCENARIO.autopilot, 80, "terminate-idle-connections"))
    wrong = card(responder_path(SCENARIO.wrong_turns, 80, "restart"))
    assert autopilot.total >= SCENARIO.par_score > wrong.total + 20, (autopilot.total, wrong.total)
    assert {name for name, _ in wrong.herrings} >= {"blame-network", "page-network-team", "scale-web-up"}


def test_observer_events_are_facts_and_a_restart_seen_by_the_observer_mitigates():
    events = [*IDEAL[:7], ev(40, 130, "db.restarted", Source.OBSERVER, before="t0", after="t1")]
    c = card(Timeline(tuple(events), probe(50, 140)))
    assert c.ignored == 0
    assert dict(c.steps)["mitigate"] == 40


def test_a_scenario_can_override_the_weights():
    from lab.core.runbook import ScoringConfig, Weights

    heavy_comms = SCENARIO.model_copy(update={"scoring": ScoringConfig(weights=Weights(
        impact=0, phase_times=0, diagnosis=0, adherence=0, coordination=100, learning=0))})
    default = score(ORIGINAL_TL, RUNBOOK, SCENARIO)
    custom = score(ORIGINAL_TL, RUNBOOK, heavy_comms)
    assert custom.component("coordination").weight == 100
    assert custom.component("impact").weight == 0 and custom.component("impact").points == 0
    coordination = default.component("coordination")
    assert custom.total == pytest.approx(100 * coordination.points / coordination.weight, abs=0.1)


def test_the_card_shows_how_a_declared_resolution_ended():
    resolve = act(14, 175, "resolve")
    held = Timeline((*IDEAL, resolve, ev(15, 176, "drill.resolving", Source.RUNNER, by="ann", until_s=236),
                     ev(16, 236, "drill.resolved", Source.RUNNER, resolve_event=14, reason="the SLO held")),
                    probe(50, 140))
    early = Timeline((*IDEAL, resolve, ev(15, 176, "drill.resolving", Source.RUNNER, by="ann", until_s=236),
                      ev(16, 236, "drill.resolved_too_early", Source.RUNNER, resolve_event=14,
                         reason="the cause of 'leak' (connection_hog) is still there")), probe(50, 140))
    good, bad, plain = card(held), card(early), card(IDEAL_TL)
    said = {p.reason: p for p in good.component("coordination").items}
    assert said["declared resolved, and the fix held through the relapse window"].evidence == (14, 16)
    worse = next(p for p in bad.component("coordination").items if p.reason.startswith("declared resolved too early"))
    assert worse.points == 0 and "'leak'" in worse.reason
    assert bad.total < good.total
    assert not any("declared resolved" in p.reason for p in plain.component("coordination").items)
