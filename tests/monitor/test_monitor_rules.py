"""Alert rules: `for:` durations, resolution, overrides; pure (time passed in as data)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.monitor.rules import AlertRule, Phase, RuleError, apply_overrides, default_rules, evaluate, parse_assignment

LOW = AlertRule("SiteAvailabilityLow", "availability", "<", 0.99, 3.0)


def run(rules, series):
    """Feed {second: {signal: value}} in order; return the transitions as (kind, name, t)."""
    states, out = {}, []
    for t, signals in series:
        states, events = evaluate(rules, states, signals, t)
        out += [(e.kind, e.rule.name, e.t) for e in events]
    return states, out


def test_fires_after_the_for_duration_and_resolves_when_the_value_recovers():
    series = [(t, {"availability": 1.0 if t < 10 or t >= 20 else 0.5}) for t in range(30)]
    states, events = run((LOW,), series)
    assert events == [("firing", "SiteAvailabilityLow", 13), ("resolved", "SiteAvailabilityLow", 20)]
    assert states["SiteAvailabilityLow"].phase is Phase.INACTIVE


def test_a_breach_shorter_than_for_never_fires_and_missing_data_changes_nothing():
    blip = [(t, {"availability": 0.5 if 5 <= t < 7 else 1.0}) for t in range(12)]
    assert run((LOW,), blip)[1] == []
    gap = [(0, {"availability": 0.5}), (1, {"availability": None}), (2, {}), (3, {"availability": 0.4})]
    states, events = run((LOW,), gap)
    assert events == [("firing", "SiteAvailabilityLow", 3)]
    assert states["SiteAvailabilityLow"].since == 0


def test_a_disabled_rule_never_fires_and_disabling_resolves_it():
    off = apply_overrides(default_rules(), {"DbConnectionsSaturated": {"enabled": False}})
    series = [(t, {"db_connections_ratio": 1.0}) for t in range(40)]
    assert run(off, series)[1] == []
    on = apply_overrides(default_rules(), {"DbConnectionsSaturated": {"for": 0}})
    states, events = run(on, series[:2])
    assert events == [("firing", "DbConnectionsSaturated", 0)]
    _, events = evaluate(off, states, {"db_connections_ratio": 1.0}, 2)
    assert [(e.kind, e.rule.name) for e in events] == [("resolved", "DbConnectionsSaturated")]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.floats(0, 1)), max_size=60), for_s=st.integers(0, 10))
def test_firing_means_breached_for_the_whole_for_duration(values, for_s):
    rule = AlertRule("A", "availability", "<", 0.99, float(for_s))
    states: dict = {}
    breached_since = None
    for t, v in enumerate(values):
        states, _ = evaluate((rule,), states, {"availability": v}, t)
        if v is not None:
            breached_since = (breached_since if breached_since is not None else t) if v < 0.99 else None
        firing = states["A"].phase is Phase.FIRING
        if v is not None:
            assert firing == (breached_since is not None and t - breached_since >= for_s)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SiteAvailabilityLow": {"fro": 5}}, "rules.SiteAvailabilityLow.fro: unknown field; did you mean 'for'?"),
        ({"SiteAvailabilityLow": {"for": "5s"}}, "rules.SiteAvailabilityLow.for_s: expected a number, got '5s'"),
        ({"SiteAvailabilityLow": {"for": -1}}, "rules.SiteAvailabilityLow.for_s: -1 is out of range; valid: 0-86400 seconds"),
        ({"SiteAvailabilityLow": {"signal": "availabilty"}}, "rules.SiteAvailabilityLow.signal: unknown signal 'availabilty'; did you mean 'availability'?"),
        ({"SiteAvailabilityLow": {"op": "=="}}, "rules.SiteAvailabilityLow.op: unknown operator '=='; valid: <, >, <=, >="),
        ({"DbConnectionsSaturated": {"enabled": "no"}}, "rules.DbConnectionsSaturated.enabled: expected true or false, got 'no'"),
        ({"SiteAvailabiltyLow": {"for": 5}}, "rules.SiteAvailabiltyLow: not a known rule; did you mean 'SiteAvailabilityLow'?"),
        ({"SiteAvailabilityLow": 5}, "rules.SiteAvailabilityLow: expected a mapping of fields, got 5"),
    ],
)
def test_bad_rule_overrides_are_one_line_errors_and_change_nothing(overrides, message):
    rules = default_rules()
    with pytest.raises(RuleError) as exc:
        apply_overrides(rules, overrides)
    assert str(exc.value).startswith(message)
    assert rules == default_rules()


def test_overrides_change_fields_and_add_rules():
    rules = apply_overrides(default_rules(), {
        "SiteAvailabilityLow": {"for": 2, "threshold": 0.95},
        "ArcadeErrors": {"signal": "arcade_5xx_per_s", "op": ">", "threshold": 10, "for": 5},
    })
    by = {r.name: r for r in rules}
    assert (by["SiteAvailabilityLow"].for_s, by["SiteAvailabilityLow"].threshold) == (2.0, 0.95)
    assert by["ArcadeErrors"].signal == "arcade_5xx_per_s"
    assert parse_assignment("DbConnectionsSaturated.enabled=false") == ("DbConnectionsSaturated", "enabled", False)
    with pytest.raises(RuleError, match="expected NAME.FIELD=VALUE"):
        parse_assignment("for=5")
