"""The drill reads its own timeline: paged teams answer after a realistic (drill-time) delay with
what they measure; a hint the facilitator released early is not released again."""

from __future__ import annotations

import threading

import pytest
import yaml

from lab.catalog import CATALOG
from lab.core import escalation
from lab.core.timeline import Source
from lab.runner.drill import Drill, DrillOptions
from lab.stack.config import load_config
from lab.stack.local import LocalStack

pytestmark = pytest.mark.integration

SCENARIO = {
    "id": "paging", "title": "Pages to other teams", "difficulty": "easy", "story": {"told": "test"},
    "runbook": "db-connection-exhaustion",
    "stack": {"max_connections": 40, "access_mode": "pool", "workers": 1, "threads": 4, "proxy": True},
    "traffic": {"baseline_rps": 5},
    "steady_state": {"window_s": 3},
    "faults": [{"id": "slow", "kind": "net_latency", "params": {"latency_ms": 40}}],
    "time_limit_s": 400,
    "autopilot": [
        {"action": "escalate", "args": {"team": "network"}, "at_s": 1},
        {"action": "escalate", "args": {"team": "DBA"}, "at_s": 2},
        {"action": "escalate", "args": {"team": "payments"}, "at_s": 3},
    ],
}


def test_paged_teams_answer_after_their_delay_with_what_they_see(run_root):
    run_root.mkdir(parents=True, exist_ok=True)
    path = run_root / "paging.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    scenario, text = CATALOG.load(path, runbooks=["db-connection-exhaustion"])
    stack = LocalStack("paging", run_root, load_config(None, scenario.stack.overrides()))
    stack.up()
    try:
        drill = Drill(scenario, text, stack, DrillOptions(speed=100.0, responder="autopilot"))
        drill.run()
    finally:
        stack.down(purge=True)
    answers = {e.data["team"]: e for e in drill.timeline.read() if e.kind == "escalation.answered"}
    assert set(answers) == {"network", "DBA", "payments"}
    network, dba, other = answers["network"], answers["DBA"], answers["payments"]
    assert network.source.value == "facilitator" and network.actor == "network team"
    assert "latency on postgres" in network.data["text"]  # the toxic really on the web-to-db path
    assert "connections in use" in dba.data["text"] and "no lock waits" in dba.data["text"]
    assert "acknowledged" in other.data["text"]
    for event, kind in ((network, "network"), (dba, "database"), (other, "other")):
        assert event.data["delay_s"] >= escalation.DELAY_S[kind]
        assert event.offset_s >= event.data["asked_at_s"] + escalation.DELAY_S[kind]


def test_a_hint_released_early_is_not_released_again(run_root):
    run_root.mkdir(parents=True, exist_ok=True)
    path = run_root / "hints.yaml"
    spec = {**SCENARIO, "id": "hints", "autopilot": [{"action": "note", "args": {"text": "waiting"}, "at_s": 1}],
            "time_limit_s": 300, "hints": [{"id": "look-at-db", "text": "Look at the database.", "at_s": 150}]}
    path.write_text(yaml.safe_dump(spec))
    scenario, text = CATALOG.load(path, runbooks=["db-connection-exhaustion"])
    stack = LocalStack("hints", run_root, load_config(None, scenario.stack.overrides()))
    stack.up()
    try:
        drill = Drill(scenario, text, stack, DrillOptions(speed=100.0, responder="autopilot"))

        def release_early() -> None:
            drill.started.wait(60)
            drill.timeline.append(Source.FACILITATOR, "hint.released", "facilitator",
                                  {"id": "look-at-db", "text": "Look at the database.", "cost": 5}, offset_s=0.0)

        early = threading.Thread(target=release_early)
        early.start()
        drill.run()
        early.join()
    finally:
        stack.down(purge=True)
    released = [e for e in drill.timeline.read() if e.kind == "hint.released"]
    assert [e.source.value for e in released] == ["facilitator"]


@pytest.mark.parametrize(("team", "kind"), [("network", "network"), ("NetOps", "network"), ("db-team", "database"),
                                            ("DBA", "database"), ("payments", "other")])
def test_team_kinds(team, kind):
    assert escalation.team_kind(team) == kind


def test_a_clean_network_says_so():
    text = escalation.network_answer("network", {"connect_ms": {"db": 0.2, "web": 0.3}, "unreachable": [],
                                                 "toxics": [], "db_link_enabled": True})
    assert "the network is clean" in text and "0.3 ms" in text and "not a network problem" in text


def test_the_database_team_sees_exhaustion():
    text = escalation.database_answer("DBA", {
        "connections_used": 37, "max_connections": 40,
        "by_state": [{"state": "idle in transaction", "count": 30, "application": "arcade"}],
        "longest_transactions": [{"age_s": 95.4}], "blocked": []})
    assert text == ("DBA team here: 37 of 40 connections in use; 30 of them idle in transaction (from arcade); "
                    "the oldest transaction is 95 s old; no lock waits; the server is out of connection slots.")
