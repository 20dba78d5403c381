"""Which observed changes the lab made itself (pure rules)."""

from __future__ import annotations

import pytest

from lab.actions import ACTIONS
from lab.core.timeline import Event, Source
from lab.faults import FAULTS
from lab.timeline.observers import EXPLAIN_WINDOW_S, OBSERVED_KINDS, explained_by


def team(action, wall, **args):
    return Event(1, wall, 0.0, Source.TEAM, f"action.{action}", "alice", {"action": action, "args": args})


def test_a_lab_restart_explains_the_restart_it_caused():
    assert explained_by("db.restarted", 100.0, [team("restart", 99.0, service="db")]) == "event 1"
    assert explained_by("web.restarted", 100.0, [team("restart", 99.0, service="db")]) is None


def test_old_events_and_shell_commands_explain_nothing():
    old = team("restart", 100.0 - EXPLAIN_WINDOW_S - 0.1, service="db")
    typed = Event(2, 99.5, 0.0, Source.TEAM, "action.restart", "alice",
                  {"action": "restart", "args": {"service": "db"}, "via": "shell", "command": "pg_ctl restart"})
    assert explained_by("db.restarted", 100.0, [old, typed]) is None


def test_actions_and_faults_still_running_explain_their_effects():
    assert explained_by("web.scaled", 100.0, [], [(Source.TEAM, {"action": "scale-web", "args": {"workers": 3}})])
    assert explained_by("db.connections_terminated", 100.0, [], [(Source.RUNNER, {"kind": "connection_hog"})])
    assert explained_by("db.restarted", 100.0, [], [(Source.RUNNER, {"kind": "net_latency"})]) is None
    fault = Event(3, 99.0, 0.0, Source.RUNNER, "fault.reverted", "lab", {"fault_id": "f1", "kind": "db_restart"})
    assert explained_by("db.restarted", 100.0, [fault]) == "event 3"


def runner(kind, wall=99.0):
    return Event(4, wall, 0.0, Source.RUNNER, "fault.injected", "lab", {"fault_id": "f1", "kind": kind})


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_a_fault_explains_exactly_what_it_declares_observers_see(kind):
    for observed in OBSERVED_KINDS:
        expected = "event 4" if observed in FAULTS[kind].observed_as else None
        assert explained_by(observed, 100.0, [runner(kind)]) == expected, observed


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_an_action_explains_exactly_what_it_declares_observers_see(name):
    action = ACTIONS[name]
    args = dict(action.example)
    for observed in OBSERVED_KINDS:
        expected = "event 1" if observed in action.observed(args) else None
        assert explained_by(observed, 100.0, [team(name, 99.0, **args)]) == expected, observed


def test_the_cause_map_can_be_given():
    causes = {"db.restarted": (frozenset({"restart:service=web"}), frozenset({"net_latency"}))}
    assert explained_by("db.restarted", 100.0, [team("restart", 99.0, service="web")], causes=causes) == "event 1"
    assert explained_by("db.restarted", 100.0, [team("restart", 99.0, service="db")], causes=causes) is None
    assert explained_by("db.restarted", 100.0, [], [(Source.RUNNER, {"kind": "net_latency"})], causes=causes)
