"""`gameday event` with real stacks and real drills: three teams (the autopilot, the wrong-turns
responder, nobody) play their own variants of one scenario at once; the scoreboard ranks them as
their scores say, the event report puts them side by side, and every stack is down at the end with
its ports free. A halted event stops every drill and takes every stack down; a bad plan or one the
machine cannot hold starts nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import psutil
import pytest
import yaml

import lab

from lab.faults import engine
from lab.stack import procs
from lab.stack.open import open_stack
from lab.timeline import rundir

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]

SCENARIO = "flagsmith-2023-migration-lock"  # a lock queue: light on the CPU, so three stacks fit beside the suite


def write_event(path: Path, **extra: object) -> Path:
    plan = {"event": "trial", "scenario": SCENARIO, "speed": 20, "time_limit_s": 600, "seed": 5,
            "teams": [{"name": "auto", "responder": "autopilot"}, {"name": "wrong", "responder": "wrong_turns"}, "idle"],
            **extra}
    path.write_text(yaml.safe_dump(plan))
    return path


def port_free(url: str) -> bool:
    host, port = url.split("//")[1].split("/")[0].split("@")[-1].rsplit(":", 1)
    with socket.socket() as sock:
        return sock.connect_ex((host, int(port))) != 0


def assert_all_down(info: dict, root: Path) -> None:
    for team in info["teams"]:
        stack = open_stack(team["stack"], root)
        assert not stack.is_up(), team["stack"]
        assert team["urls"] and all(port_free(u) for u in team["urls"].values()), team["urls"]
        left = [p.pid for p in psutil.process_iter(["cmdline"]) if str(stack.run_dir) in " ".join(p.info["cmdline"] or [])]
        assert not left, (team["stack"], left)


def test_three_teams_play_their_own_variants_and_the_scoreboard_ranks_them(gameday, run_root, tmp_path):
    # a lock queue costs less than the March surge the default per-stack cost is measured on
    result = gameday("event", "run", str(write_event(tmp_path / "event.yaml")), "--stack-cpu", "0.4", timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    # the facilitator is told how the people's team responds, and sees the ranking as they play
    assert "team idle responds on stack trial-idle" in result.stdout and "--name trial-idle" in result.stdout
    assert "team auto responds" not in result.stdout
    assert " scoreboard: 1. " in result.stdout
    info = json.loads((run_root / "events" / "trial" / "event.json").read_text())
    assert info["status"] == "ended"
    outcomes = {t["team"]: t["outcome"] for t in info["teams"]}
    assert outcomes == {"auto": "recovered", "wrong": "time_limit", "idle": "time_limit"}
    # each team played its own variant, recorded with its run
    seeds = {t["team"]: t["seed"] for t in info["teams"]}
    assert len(set(seeds.values())) == 3
    for team in info["teams"]:
        copy = yaml.safe_load((Path(team["run_dir"]) / rundir.SCENARIO).read_text())
        assert copy["seed"] == team["seed"] and copy["time_limit_s"] == 600
    board = json.loads(gameday("event", "scoreboard", "trial", "--json").stdout)
    schema = json.loads((Path(lab.__file__).parent / "schemas" / "scoreboard.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(board)
    scores = [row["score"] for row in board["teams"]]
    assert [row["team"] for row in board["teams"]][0] == "auto" and scores == sorted(scores, reverse=True)
    assert [row["rank"] for row in board["teams"]] == [1, 2, 3]
    auto = board["teams"][0]
    assert auto["phase"] == "recovered" and auto["ack_s"] is not None and auto["recovered_s"] is not None
    piped = gameday("event", "scoreboard", "trial")  # not a terminal: tab-separated, nothing cut
    assert any(line.startswith("1\tauto\t") for line in piped.stdout.splitlines())
    assert auto["run_id"] in piped.stdout
    # the event report: the teams side by side, the original beside them, every path on one axis
    md = (run_root / "events" / "trial" / "report.md").read_text()
    assert "| | auto | wrong | idle | original |" in md
    page = (run_root / "events" / "trial" / "report.html").read_text()
    assert page.count("<th>auto</th>") == 1 and "<th>original</th>" in page and "<svg" in page
    for team in info["teams"]:
        assert (Path(team["run_dir"]) / rundir.REPORT_HTML).is_file()  # each team's own report
    assert_all_down(info, run_root)


def test_a_halted_event_stops_every_drill_and_takes_every_stack_down(run_root, tmp_path):
    plan = write_event(tmp_path / "event.yaml", time_limit_s=6000, event="halt",
                       teams=["red", "blue"])  # nobody responds: the faults stay until the halt
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "event", "run", str(plan)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "GAMEDAY_ROOT": str(run_root)})
    record = run_root / "events" / "halt" / "event.json"

    def injected() -> bool:
        try:
            info = json.loads(record.read_text())
        except (OSError, ValueError):
            return False
        stacks = [open_stack(t["stack"], run_root) for t in info["teams"]]
        return info["status"] == "running" and all(s.is_up() and engine.journal_for(s).active() for s in stacks)

    try:
        assert procs.wait_until(injected, 180, 0.5), proc.stdout.read() if proc.poll() is not None else "not yet"
        proc.send_signal(signal.SIGINT)  # the facilitator's Ctrl-C
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "halted: every drill stopped" in out
    info = json.loads(record.read_text())
    assert info["status"] == "halted" and {t["outcome"] for t in info["teams"]} == {"halted"}
    for team in info["teams"]:
        journal = engine.journal_for(open_stack(team["stack"], run_root))
        assert not journal.active()
    assert_all_down(info, run_root)


@pytest.mark.parametrize("plan, message", [
    ({"scenario": "march-2023-db-overlod"}, "scenario: unknown scenario 'march-2023-db-overlod'; did you mean"),
    ({"teams": ["red", "red"]}, "teams: duplicate team 'red'"),
    ({"teams": []}, "teams: 0 team(s); an event has 2 to 30 teams"),
    ({"teams": [f"t{i}" for i in range(500)]}, "teams: 500 team(s); an event has 2 to 30 teams"),
])
def test_a_bad_event_file_starts_nothing(gameday, run_root, tmp_path, plan, message):
    result = gameday("event", "run", str(write_event(tmp_path / "bad.yaml", **plan)))
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (run_root / "events").exists() and not list(run_root.glob("*/state.json"))


def test_an_event_the_machine_cannot_hold_is_refused_naming_the_way_past_one_machine(gameday, run_root, tmp_path):
    cores = os.cpu_count() or 1
    result = gameday("event", "run", str(write_event(tmp_path / "big.yaml")), "--stack-cpu", str(cores))
    assert result.returncode == 2, result.stderr
    assert "teams: 3 local stacks do not fit on this machine" in result.stderr and "at most 1" in result.stderr
    assert "Swarm" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not list(run_root.glob("*/state.json"))
