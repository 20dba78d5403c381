"""History through the real console (a `gameday console` process, HTTP, a logged-in facilitator) over
real run directories: each run in its real state (running only while a live drill process owns it,
aborted when its process is gone without an end, else its outcome), named by its team and members,
and teams of people ranked apart from the autopilot and scripted runs."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import html5lib
import pytest

from lab.console.server import ConsoleProcess
from lab.core.timeline import Source
from lab.timeline.store import TimelineStore
from .console_helpers import Client

PROJECT = Path(__file__).resolve().parents[2]
SCENARIO = PROJECT / "scenarios" / "march-2023-db-overload.yaml"
STACK = "hist"
ANSWER = "network team here: the network is clean, TCP connect 0.2 ms to every service"


def team_moves(people: tuple[str, ...]) -> list[tuple[float, Source, str, str, dict[str, Any]]]:
    """The runbook's path, played by `people` in turn."""
    moves = [("ack", {}), ("role", {"role": "IC", "name": people[0]}), ("action.inspect-db", {}),
             ("note", {"hypothesis": "db-connections-exhausted", "text": "leaked sessions"}),
             ("action.terminate-idle-connections", {"older_than_s": 2}),
             ("update", {"audience": "external", "text": "fixed"}), ("resolve", {"summary": "sessions cut"})]
    out = []
    for i, (kind, args) in enumerate(moves):
        data = {"action": kind.replace("action.", ""), "args": args, "ok": True, "result": {}}
        out.append((90.0 + 20 * i, Source.TEAM, kind, people[i % len(people)], data))
    return out


def write_run(root: Path, run_id: str, team: str, responder: str | None, people: tuple[str, ...],
              outcome: str | None) -> Path:
    """A run directory as a drill writes it: scenario.yaml, events.jsonl (TimelineStore), sli.jsonl."""
    run_dir = root / "runs" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "scenario.yaml").write_text(SCENARIO.read_text())
    events: list[tuple[float, Source, str, str, dict[str, Any]]] = [
        (0, Source.RUNNER, "drill.started", "lab", {"scenario": "march-2023-db-overload", "team": team, "speed": 1.0,
                                                    "responder": responder, "run_id": run_id, "time_limit_s": 9000}),
        (20, Source.RUNNER, "fault.injected", "lab", {"step": "leak", "fault_id": "leak-1", "kind": "connection_hog"}),
        (60, Source.MONITOR, "alert.firing", "monitor", {"alert": "SiteAvailabilityLow", "value": 0.0}),
        (100, Source.TEAM, "escalate", people[-1], {"action": "escalate", "args": {"team": "network"}, "ok": True}),
        (220, Source.FACILITATOR, "escalation.answered", "network team",
         {"team": "network", "asked_at_s": 100.0, "delay_s": 120.0, "text": ANSWER}),
        *team_moves(people),
    ]
    if outcome is not None:
        events.append((300, Source.RUNNER, "drill.ended", "lab", {"outcome": outcome}))
    store = TimelineStore(run_dir / "events.jsonl")
    for offset, source, kind, actor, data in sorted(events, key=lambda e: e[0]):
        store.append(source, kind, actor, data, offset_s=offset)
    with (run_dir / "sli.jsonl").open("w") as f:
        for t in range(0, 300, 2):
            ok = 0 if 50 <= t < 190 else 4
            f.write(json.dumps({"offset_s": float(t), "started": True, "probe": {"total": 4, "ok": ok, "p95_s": 0.05}}) + "\n")
    return run_dir


def marker(root: Path, stack: str, pid: int, run_dir: Path) -> Path:
    """`<stack run dir>/drill.json` as a running drill writes it."""
    path = root / stack / "drill.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "run_id": run_dir.name, "run_dir": str(run_dir),
                                "started_wall": time.time() - 120, "speed": 1.0}))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


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
