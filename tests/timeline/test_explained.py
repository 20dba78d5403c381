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


def typed(wall, ok=True):
    return Event(2, wall, 0.0, Source.TEAM, "action.restart", "alice",
                 {"action": "restart", "args": {"service": "db"}, "via": "shell", "command": "pg_ctl restart", "ok": ok})


def test_old_events_and_failed_shell_commands_explain_nothing():
    old = team("restart", 100.0 - EXPLAIN_WINDOW_S - 0.1, service="db")
    assert explained_by("db.restarted", 100.0, [old, typed(99.5, ok=False)]) is None
    assert explained_by("db.restarted", 100.0, [typed(100.0 - EXPLAIN_WINDOW_S - 0.1)]) is None


def test_a_command_typed_in_the_recorded_shell_explains_its_act_like_the_toolbox():
    # the same act through another channel: the shell's event is the record, the observer's would be a second
    assert explained_by("db.restarted", 100.0, [typed(100.4)]) == "event 2"  # written when pg_ctl returned
    assert explained_by("web.restarted", 100.0, [typed(99.5)]) is None
    running = {"action": "restart", "args": {"service": "db"}, "via": "shell", "pid": 1}  # the shell's marker
    assert explained_by("db.restarted", 100.0, [], [(Source.TEAM, running)]) == "in flight: restart"


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


def test_a_changed_setting_is_explained_only_by_an_act_on_that_setting_to_that_value():
    typed = Event(5, 99.5, 0.0, Source.TEAM, "action.set-db-setting", "alice",
                  {"action": "set-db-setting", "args": {"name": "max_connections", "value": "8000"}, "via": "shell",
                   "command": "psql -c 'ALTER SYSTEM SET max_connections = 8000'", "ok": True})
    seen = {"name": "max_connections", "value": "8000", "file": "postgresql.auto.conf"}
    assert explained_by("db.setting_changed", 100.0, [typed], observed=seen) == "event 5"
    assert explained_by("db.setting_changed", 100.0, [typed], observed={**seen, "value": "'8000'"}) == "event 5"
    assert explained_by("db.setting_changed", 100.0, [typed], observed={**seen, "value": None}) is None  # reset by hand
    assert explained_by("db.setting_changed", 100.0, [typed], observed={**seen, "name": "work_mem"}) is None
    running = {"action": "set-db-setting", "args": {"name": "work_mem", "value": "8MB"}, "pid": 1}
    assert explained_by("db.setting_changed", 100.0, [], [(Source.TEAM, running)],
                        observed={"name": "work_mem", "value": "8MB"}) == "in flight: set-db-setting"
