"""What a team member's page shows of a run, through the real app (Flask's test client) over run
directories written as a drill writes them: answers from paged teams, how the drill ended, no lab
internals, only the dashboards the scenario grants, the baseline before the clock, drill seconds."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from xml.etree import ElementTree

import html5lib
import yaml

from lab.core.timeline import Source
from lab.timeline.store import TimelineStore
from .app_helpers import logged_in, make_app
from .run_files import ANSWER, SCENARIO, marker, write_run

STACK = "view"
SVG = "{http://www.w3.org/2000/svg}"


def _tree(html: str) -> Any:
    return html5lib.parse(html, namespaceHTMLElements=False)


def _text(tree: Any, xpath: str) -> str:
    found = tree.find(xpath)
    return "" if found is None else " ".join("".join(found.itertext()).split())


def _live_run(root: Path, scenario: dict[str, Any] | None = None) -> Path:
    """A run of the March scenario (or `scenario`) that this test process owns, as a live drill would."""
    run_dir = write_run(root, "2026-12-04T150000-march-red", "red", None, ("alice", "bob"), None)
    if scenario is not None:
        (run_dir / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    marker(root, STACK, os.getpid(), run_dir)
    return run_dir


def test_the_team_sees_answers_to_its_pages_and_how_the_drill_ended_but_not_the_lab(tmp_path):
    root = tmp_path / "gd"
    run_dir = _live_run(root)
    store = TimelineStore(run_dir / "events.jsonl")
    store.append(Source.RUNNER, "drill.recovered", "lab", {"awaiting": "resolve", "availability": 1.0}, offset_s=240)
    store.append(Source.RUNNER, "drill.resolving", "lab", {"by": "bob", "resolve_event": 14, "at_s": 250.0,
                                                    "relapse_window_s": 60.0, "until_s": 310.0}, offset_s=250)
    store.append(Source.RUNNER, "drill.resolved_too_early", "lab", {
        "reason": "a cause is still there: leak (connection_hog)", "causes_present": [["leak", "connection_hog"]],
        "slo_broken": False}, offset_s=310)
    app = make_app(root, STACK)
    bob = logged_in(app, "team", "bob")
    tree = _tree(bob.get("/team").text)
    timeline = _text(tree, ".//tbody[@id='timeline']")
    findings = _text(tree, ".//div[@id='findings']")
    assert ANSWER in findings and ANSWER in timeline  # the network team's answer reached the team
    assert "network team answered" in timeline
    assert "fault.injected" not in timeline
    assert "drill.recovered" not in timeline  # the lab's own verdict waits for the team's resolve
    assert "declared the incident resolved" in timeline and "Resolved too early" in timeline
    rows = tree.find(".//tbody[@id='timeline']").findall("tr")
    assert "escalation.answered" in [r.findall("td")[3].text for r in rows]
    # the findings list, for scripts: the answer is there with its text
    listed = bob.get("/team/findings?format=json").get_json()["findings"]
    assert any(f["kind"] == "escalation.answered" and ANSWER in f["headline"] for f in listed)
    # the facilitator sees the lab's side as well
    fac = logged_in(app, "facilitator", "fran")
    assert "fault.injected" in fac.get("/facilitator").text


def test_the_team_sees_only_the_dashboards_its_scenario_grants(tmp_path):
    root = tmp_path / "gd"
    run_dir = _live_run(root)
    with (run_dir / "sli.jsonl").open("a") as f:
        f.write(json.dumps({"offset_s": 300.0, "started": True, "probe": {"total": 4, "ok": 1, "p95_s": 0.4},
                            "firing": ["SiteAvailabilityLow"],
                            "db": {"ordinary": 37, "max_connections": 40,
                                   "by_state": {"idle in transaction": 34, "active": 3}}}) + "\n")
    app = make_app(root, STACK)
    team = _tree(logged_in(app, "team", "bob").get("/status").text)
    assert _text(team, ".//span[@id='availability']") == "25.0 %"
    assert "SiteAvailabilityLow" in _text(team, ".//ul[@id='alerts']")
    assert team.find(".//span[@id='db']") is None  # the March site had no database dashboard
    assert "idle in transaction" not in _text(team, ".")  # the diagnosis is found, or bought with a hint
    facilitator = _tree(logged_in(app, "facilitator", "fran").get("/status").text)
    assert _text(facilitator, ".//span[@id='db']") == "37 / 40"
    assert "idle in transaction 34" in _text(facilitator, ".//ul[@id='db-sessions']")
    # a scenario that grants the database dashboards shows them to the team
    granted = yaml.safe_load(SCENARIO.read_text())
    granted["dashboards"] = ["availability", "alerts", "db_connections", "db_sessions_by_state"]
    (run_dir / "scenario.yaml").write_text(yaml.safe_dump(granted))
    app = make_app(root, STACK)
    team = _tree(logged_in(app, "team", "bob").get("/status").text)
    assert _text(team, ".//span[@id='db']") == "37 / 40" and "idle in transaction 34" in _text(team, ".")
    assert team.find(".//span[@id='p95']") is None and team.find(".//ul[@id='services']") is None


def test_the_chart_shows_the_baseline_before_the_clock_started(tmp_path):
    root = tmp_path / "gd"
    run_dir = _live_run(root)
    lines = [{"offset_s": float(t), "started": False, "probe": {"total": 4, "ok": 4, "p95_s": 0.02}} for t in range(40)]
    lines += [{"offset_s": float(t), "started": True, "probe": {"total": 4, "ok": 0 if t > 5 else 4, "p95_s": 2.0}}
              for t in range(20)]
    (run_dir / "sli.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    svg = logged_in(make_app(root, STACK), "team", "bob").get("/chart.svg").text
    chart = ElementTree.fromstring(svg)
    labels = [t.text for t in chart.iter(f"{SVG}text")]
    assert any(label and label.startswith("t-0:4") for label in labels), labels  # 40 s of baseline
    assert "start" in labels and chart.find(f".//{SVG}line[@class='start']") is not None


def test_every_figure_a_team_types_or_reads_is_in_drill_seconds(tmp_path):
    root = tmp_path / "gd"
    _live_run(root)
    tree = _tree(logged_in(make_app(root, STACK), "team", "bob").get("/team").text)
    form = tree.find(".//form[@data-action='terminate-idle-connections']")
    assert "older than (drill s)" in " ".join("".join(form.itertext()).split())
    assert _text(tree, ".//div[@class='figures']").count("time (drill)") == 1


def test_the_hypothesis_field_offers_the_runbooks_vocabulary(tmp_path):
    root = tmp_path / "gd"
    _live_run(root)
    tree = _tree(logged_in(make_app(root, STACK), "team", "bob").get("/team").text)
    offered = [o.get("value") for o in tree.find(".//datalist[@id='hypotheses']").iter("option")]
    assert offered == sorted(offered) and {"db-connections-exhausted", "network-failure", "web-overloaded"} <= set(offered)
    field = tree.find(".//form[@data-action='note']//input[@name='arg_hypothesis']")
    assert field.get("list") == "hypotheses"
