"""History through the real console (a `gameday console` process, HTTP, a logged-in facilitator) over
real run directories: each run in its real state (running only while a live drill process owns it,
aborted when its process is gone without an end, else its outcome), named by its team and members,
and teams of people ranked apart from the autopilot and scripted runs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest

from lab.console.server import ConsoleProcess
from .console_helpers import Client
from .run_files import ANSWER, dead_pid, marker, write_run

STACK = "hist"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "gd"


@pytest.fixture
def drill_process() -> Iterator[subprocess.Popen[bytes]]:
    """A real live process standing in for a drill (what matters is that its pid runs)."""
    proc = subprocess.Popen(["sleep", "300"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def history(client: Client) -> Any:
    answer = client.get("/history")
    assert answer.status_code == 200, answer.text[:500]
    return html5lib.parse(answer.text, namespaceHTMLElements=False)


def runs_table(tree: Any) -> dict[str, dict[str, str]]:
    out = {}
    for tr in tree.find(".//table[@id='runs']").findall(".//tr[@data-run]"):
        cells = ["".join(td.itertext()).strip() for td in tr.findall("td")]
        out[tr.get("data-run")] = {"state": tr.get("data-state"), "team": cells[0], "run": cells[1], "shown": cells[3],
                                   "report": cells[5]}
    return out


def boards(tree: Any) -> dict[str, list[tuple[str, str]]]:
    """board -> [(team cell, run id)] in rank order."""
    return {t.get("data-board"): [("".join(tr.find("td[@class='team']").itertext()).strip(), tr.get("data-run"))
                                  for tr in t.findall(".//tr[@data-run]")]
            for t in tree.findall(".//table[@class='board']")}


def test_history_shows_each_run_in_its_real_state_named_by_its_team(root, drill_process):
    red = write_run(root, "20260101-100000-march-2023-db-overload-red", "red", None, ("alice", "bob"), "resolved")
    green = write_run(root, "20260101-101000-march-2023-db-overload-green", "green", None, ("carol",), "resolved_too_early")
    auto = write_run(root, "20260101-102000-march-2023-db-overload-bots", "bots", "autopilot", ("autopilot",), "recovered")
    turns = write_run(root, "20260101-103000-march-2023-db-overload-bots", "bots", "wrong_turns", ("wrong_turns",), "time_limit")
    aborted = write_run(root, "20260101-104000-march-2023-db-overload-gray", "gray", None, ("dan",), None)
    running = write_run(root, "20260101-105000-march-2023-db-overload-amber", "amber", None, ("erin", "frank"), None)
    marker(root, STACK, drill_process.pid, running)  # the console's own stack runs amber's drill
    marker(root, "other", dead_pid(), aborted)  # gray's drill crashed and left its marker behind

    with ConsoleProcess(STACK, root) as console:
        fran = Client(console.info["url"], console.info["facilitator_token"], "fran")
        runs = runs_table(history(fran))
        assert {r: v["state"] for r, v in runs.items()} == {
            red.name: "resolved", green.name: "resolved_too_early", auto.name: "recovered", turns.name: "time_limit",
            aborted.name: "aborted", running.name: "running"}
        assert runs[green.name]["shown"] == "resolved too early"
        assert runs[aborted.name]["shown"].startswith("aborted (no end recorded")
        assert runs[running.name]["shown"] == "running"
        # named by the team and its members first, the run id second
        assert runs[red.name]["team"] == "red (alice, bob)" and runs[red.name]["run"] == red.name
        assert runs[running.name]["team"] == "amber (erin, frank)"
        assert runs[auto.name]["team"] == "bots (autopilot)"
        assert runs[red.name]["report"] == "report" and runs[running.name]["report"] == runs[aborted.name]["report"] == "-"

        ranked = boards(history(fran))
        assert set(ranked) == {"teams", "autopilot", "scripted"}
        assert {run for _, run in ranked["teams"]} == {red.name, green.name}
        assert ranked["autopilot"] == [("bots (autopilot)", auto.name)]
        assert ranked["scripted"] == [("bots (wrong_turns)", turns.name)]
        assert ("red (alice, bob)", red.name) in ranked["teams"] and ("green (carol)", green.name) in ranked["teams"]

        # the drill removes its marker before it records its end: still running while its process lives
        (root / STACK / "drill.json").unlink()
        assert runs_table(history(fran))[running.name]["state"] == "running"
        drill_process.kill()
        drill_process.wait()
        assert runs_table(history(fran))[running.name]["state"] == "aborted"

        # a run that ended is its outcome, and its report has the escalation answer
        report = fran.get(f"/runs/{red.name}/report")
        assert report.status_code == 200 and ANSWER in report.text
        assert ANSWER in (red / "report.md").read_text()


def test_a_team_member_sees_the_same_history_without_report_links(root):
    run = write_run(root, "20260101-100000-march-2023-db-overload-red", "red", None, ("alice", "bob"), "resolved")
    with ConsoleProcess(STACK, root) as console:
        alice = Client(console.info["url"], console.info["team_token"], "alice")
        runs = runs_table(history(alice))
        assert runs[run.name]["team"] == "red (alice, bob)" and runs[run.name]["state"] == "resolved"
        assert runs[run.name]["report"] == "-"
        assert alice.get(f"/runs/{run.name}/report").status_code == 403
