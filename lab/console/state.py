"""The console's view of one stack: the drill on it (running, starting, over), the drill the
console itself started, runs past and present, and their live scores.

    drill.json marker ─▶ phase + run dir ─▶ RunWatch (events, SLIs)
    `gameday drill ...` child (started by the facilitator) ─▶ starting / finishing / its error
    <root>/runs/*/ ─▶ RunSummary (scenario, team, outcome, score) ─▶ history, leaderboards

The app keeps one ConsoleState; views reach it with `state()` (the blueprints never import the app).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from flask import current_app

from lab.catalog import CATALOG
from lab.console.watch import RunWatch
from lab.core.runbook import Runbook
from lab.core.scenario import Scenario
from lab.core.scoring import ScoreCard, Timeline, score
from lab.core.timeline import Source
from lab.errors import LabError, UsageError
from lab.report.facts import outcome_text
from lab.stack import procs
from lab.stack.base import Stack
from lab.stack.open import open_stack
from lab.timeline import rundir
from lab.timeline.recorder import drill_marker

PHASES = ("none", "starting", "lobby", "running", "resolving", "finishing", "ended")
EXTENSION = "console_state"  # where the app keeps its ConsoleState


class Conflict(UsageError):
    """The request does not fit the drill's state (start while one runs, halt when none does)."""


@dataclass(frozen=True)
class DrillView:
    """The drill as the console sees it right now."""

    phase: str  # one of PHASES
    watch: RunWatch | None = None
    marker: dict[str, Any] = field(default_factory=dict)
    error: str | None = None  # the last drill the console started failed before it ran

    @property
    def live(self) -> bool:
        return self.phase in ("starting", "lobby", "running", "resolving", "finishing")

    @property
    def clock_running(self) -> bool:
        """The drill's clock runs: the team's actions count (the incident is on, or being watched after its resolve)."""
        return self.phase in ("running", "resolving")

    @property
    def waiting(self) -> str:
        """What the drill is waiting for, as the facilitator is told ("" when it says nothing)."""
        return str(self.marker.get("waiting") or "") if self.live else ""

    @property
    def team_waiting(self) -> str:
        """What the team is told the drill is waiting for ("" outside the relapse window and the lobby)."""
        if self.phase == "lobby":
            return "The drill has not started: read the story. The clock starts when the facilitator starts it."
        return str(self.marker.get("team_waiting") or "") if self.live else ""

    def drill_s(self) -> float | None:
        """Drill time now (running), or the last probe's (otherwise)."""
        if self.clock_running and "started_wall" in self.marker:
            return (time.time() - float(self.marker["started_wall"])) * float(self.marker.get("speed", 1))
        if self.watch and self.watch.events:
            return self.watch.events[-1].offset_s
        return None


BOARDS = {"teams": "Teams", "autopilot": "Autopilot (the lab follows the runbook)",
          "scripted": "Scripted runs (the classic wrong turns)"}  # leaderboard sections, in order


@dataclass(frozen=True)
class RunSummary:
    """One line of the history: the run is named by its team (and members), its id second."""

    run_id: str
    scenario: str
    team: str
    responder: str | None  # None: people responded; "autopilot", "wrong_turns": the lab did
    started: float | None  # wall time
    outcome: str | None  # None until drill.ended is recorded
    score: float | None
    par: float | None
    drill_s: float | None
    error: str | None = None
    members: tuple[str, ...] = ()  # the distinct actors of the team's events, in order of their first move
    state: str = "running"  # "running" (a live drill owns it), "aborted" (no end, no process), else the outcome

    @property
    def named(self) -> str:
        """"red (alice, bob)": the team, then who played."""
        return f"{self.team} ({', '.join(self.members)})" if self.members else self.team

    @property
    def board(self) -> str:
        """Which leaderboard the run is ranked on: people apart from the lab's own responders."""
        if self.responder is None:
            return "teams"
        return "autopilot" if self.responder == "autopilot" else "scripted"

    @property
    def state_text(self) -> str:
        if self.state == "running":
            return "running"
        if self.state == "aborted":
            return "aborted"
        return outcome_text(self.outcome)


class ConsoleState:
    """Everything the views read; shared by the request threads."""

    def __init__(self, stack_name: str, root: Path, scenario_dir: Path):
        self.stack_name = stack_name
        self.root = root
        self.scenario_dir = scenario_dir
        self.files = root / "console" / stack_name  # the console's own files (drill log)
        self.child: subprocess.Popen[bytes] | None = None
        self.child_error: str | None = None
        self._child_meta: tuple[float, str] | None = None  # (started at, run id suffix)
        self.current: Path | None = None  # the run shown: the live one, else the last seen
        self._watches: dict[Path, RunWatch] = {}
        self._catalog: dict[tuple[Path, int], Scenario] = {}
        self._loaded: dict[Path, tuple[Scenario, Runbook]] = {}
        self._scores: dict[Path, tuple[tuple[int, int], ScoreCard]] = {}
        self._summaries: dict[Path, tuple[tuple[int, int], RunSummary]] = {}
        self._pids: dict[str, int] = {}  # run id -> the pid of the drill that ran it (from the markers seen)
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()

    @property
    def stack(self) -> Stack:
        """The stack under the console's name, of whatever kind it was started as (local by default)."""
        return open_stack(self.stack_name, self.root)

    # --- the drill ---------------------------------------------------------------------------

    def watch(self, run_dir: Path) -> RunWatch:
        with self._lock:
            if run_dir not in self._watches:
                self._watches[run_dir] = RunWatch(run_dir)
            return self._watches[run_dir]

    def view(self) -> DrillView:
        marker = drill_marker(self.stack) or {}
        child_alive = self._child_alive()
        if marker.get("run_dir"):
            self.current = Path(marker["run_dir"])
            phase = str(marker.get("phase") or ("running" if "started_wall" in marker else "starting"))
            if phase not in PHASES:
                phase = "running" if "started_wall" in marker else "starting"
            return DrillView(phase, self.watch(self.current).refresh(), marker)
        watch = self.watch(self.current).refresh() if self.current else None
        if child_alive:  # bringing the stack up, or writing the reports after the drill
            mine = self._child_run()
            if mine is not None:
                self.current = mine
                return DrillView("finishing", self.watch(mine).refresh())
            return DrillView("starting")
        if watch is not None:
            return DrillView("ended", watch, error=self.child_error)
        return DrillView("none", error=self.child_error)

    def _child_alive(self) -> bool:
        child = self.child
        if child is None:
            return False
        code = child.poll()
        if code is None:
            return True
        if code != 0 and self.child_error is None:
            self.child_error = self._log_error(code)
        return False

    def _child_run(self) -> Path | None:
        """The run directory the console's drill made, once it has one (named <time>-<scenario>-<team>)."""
        if self._child_meta is None:
            return None
        since, suffix = self._child_meta
        found = [p for p in rundir.runs_dir(self.root).glob(f"*{suffix}")
                 if p.stat().st_mtime >= since - 1 and rundir.is_run(p)]
        return max(found, key=lambda p: p.name) if found else None

    def _log_error(self, code: int) -> str:
        try:
            lines = (self.files / "drill.log").read_text(errors="replace").splitlines()
        except OSError:
            lines = []
        errors = [line for line in lines if line.startswith("Error:")]
        return (errors[-1] if errors else (lines[-1] if lines else f"the drill exited with code {code}"))[:500]

    def catalog(self) -> dict[str, tuple[Path, Scenario]]:
        """The valid scenarios of the console's scenario directory, by id (files re-read when changed)."""
        out: dict[str, tuple[Path, Scenario]] = {}
        for path in sorted(self.scenario_dir.glob("*.yaml")):
            key = (path, path.stat().st_mtime_ns)
            with self._lock:
                hit = self._catalog.get(key)
            if hit is None:
                try:
                    hit = CATALOG.load(path)[0]
                except LabError:
                    continue
                with self._lock:
                    self._catalog[key] = hit
            out[hit.id] = (path, hit)
        return out

    def scenario(self, ref: str) -> tuple[Path, Scenario]:
        """A scenario by id from the console's directory (never a path from the client)."""
        known = self.catalog()
        if ref not in known:
            from lab.core.errors import did_you_mean

            raise UsageError(f"scenario: unknown scenario '{ref}'{did_you_mean(ref, known)}; "
                             f"valid: {', '.join(known) or 'none in ' + str(self.scenario_dir)}")
        return known[ref]

    def start(self, scenario_ref: str, team: str, speed: float, responder: str | None, lobby: bool = False) -> None:
        """Run `gameday drill` for the facilitator, in the background (`lobby`: the clock waits for
        `go()`); Conflict if one is live."""
        with self._start_lock:
            if self.view().live:
                raise Conflict("a drill is already running on this stack; halt it first")
            path, scenario = self.scenario(scenario_ref)
            self.files.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "lab.cli", "drill", str(path), "--team", team, "--speed", f"{speed:g}",
                   "--quiet", "--name", self.stack_name, "--root", str(self.root)]
            if responder == "autopilot":
                cmd.append("--autopilot")
            elif responder == "wrong_turns":
                cmd.append("--wrong-turns")
            if lobby:
                cmd.append("--lobby")
            with open(self.files / "drill.log", "wb") as log:
                self.child = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                              start_new_session=True)
            self._child_meta = (time.time(), f"-{scenario.id}-{team}")
            self.child_error = None

    def go(self, actor: str, timeout: float = 10.0) -> str:
        """Start the clock of the drill waiting in its lobby (what `gameday start` does); its run id."""
        from lab.timeline.recorder import request_start

        try:
            info = request_start(self.stack, actor)
        except UsageError as exc:
            raise Conflict(str(exc)) from None
        if not procs.wait_until(lambda: (drill_marker(self.stack) or {}).get("phase") != "lobby", timeout, 0.05):
            raise LabError(f"the drill (pid {info['pid']}) did not leave its lobby within {timeout:.0f} s")
        return str(info["run_id"])

    def halt(self, timeout: float = 20.0) -> None:
        """What `gameday halt` does: SIGTERM the drill; it reverts every fault and ends."""
        marker = drill_marker(self.stack)
        if marker:
            os.kill(int(marker["pid"]), signal.SIGTERM)
            marker_path = self.stack.run_dir / rundir.DRILL_MARKER
            if not procs.wait_until(lambda: not marker_path.exists(), timeout, 0.05):
                raise LabError(f"the drill (pid {marker['pid']}) did not stop within {timeout:.0f} s; "
                               "`gameday recover` cleans up")
            return
        if self._child_alive() and self.child is not None:
            self.child.send_signal(signal.SIGTERM)
            return
        raise Conflict("no drill is running on this stack")

    def close(self) -> None:
        """Stop a drill the console started (its faults are reverted by the drill itself)."""
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            if self.stack.is_up():
                from lab.faults import engine

                engine.revert_all(self.stack)

    # --- runs and scores -----------------------------------------------------------------------

    def loaded(self, run_dir: Path) -> tuple[Scenario, Runbook]:
        """The scenario as run and its runbook (validated once per run)."""
        with self._lock:
            if run_dir in self._loaded:
                return self._loaded[run_dir]
        scenario, _ = CATALOG.load(run_dir / rundir.SCENARIO, runbooks=CATALOG.runbook_names())
        pair = (scenario, CATALOG.runbook(scenario.runbook))
        with self._lock:
            self._loaded[run_dir] = pair
        return pair

    def live_score(self, watch: RunWatch) -> ScoreCard:
        """The score card of the timeline so far (recomputed when the timeline grows)."""
        key = (len(watch.events), len(watch.samples) // 5)
        cached = self._scores.get(watch.run_dir)
        if cached and cached[0] == key:
            return cached[1]
        scenario, runbook = self.loaded(watch.run_dir)
        card = score(Timeline(tuple(watch.events), tuple(watch.samples)), runbook, scenario)
        self._scores[watch.run_dir] = (key, card)
        return card

    def run_dir(self, run_id: str) -> Path:
        """A run directory by id, only among those listed under <root>/runs (no paths from clients)."""
        known = {p.name: p for p in rundir.list_runs(self.root)}
        if run_id not in known:
            raise UsageError(f"run: no run '{run_id}' under {rundir.runs_dir(self.root)}")
        return known[run_id]

    def summaries(self) -> list[RunSummary]:
        """Every run under <root>/runs, newest first, each in its real state."""
        live = self.live_runs()
        return [self.summary(p, live) for p in reversed(rundir.list_runs(self.root))]

    def live_runs(self) -> set[str]:
        """The ids of the runs a live drill process owns: named by a stack's drill marker now, or
        by one seen earlier whose process still runs (a drill removes its marker before it records
        its end), or being started by the console."""
        for marker in self.root.glob(f"*/{rundir.DRILL_MARKER}"):
            try:
                info = json.loads(marker.read_text())
                pid, run_id = int(info["pid"]), Path(str(info["run_dir"])).name
            except (OSError, ValueError, KeyError, TypeError):
                continue
            with self._lock:
                self._pids[run_id] = pid
        with self._lock:
            known = dict(self._pids)
        live = {run_id for run_id, pid in known.items() if procs.alive(pid)}
        if self._child_alive():
            mine = self._child_run()
            if mine is not None:
                live.add(mine.name)
        return live

    def summary(self, run_dir: Path, live: set[str] | None = None) -> RunSummary:
        """The run's line of the history (scored once it ended); `live`: live_runs(), if known."""
        base = self._summary(run_dir)
        if base.outcome is not None:
            return replace(base, state=base.outcome)
        owned = run_dir.name in (self.live_runs() if live is None else live)
        return replace(base, state="running" if owned else "aborted")

    def _summary(self, run_dir: Path) -> RunSummary:
        st = (run_dir / rundir.EVENTS).stat()
        key = (st.st_mtime_ns, st.st_size)
        cached = self._summaries.get(run_dir)
        if cached and cached[0] == key:
            return cached[1]
        watch = self.watch(run_dir).refresh()
        started = watch.first("drill.started")
        data = started.data if started else {}
        total = par = None
        error = None
        if watch.outcome and started:
            try:
                card = self.live_score(watch)
                total, par = card.total, card.par_score
            except LabError as exc:
                error = str(exc)
        summary = RunSummary(run_dir.name, str(data.get("scenario") or "-"), str(data.get("team") or "-"),
                             data.get("responder"), started.wall if started else None, watch.outcome, total, par,
                             watch.events[-1].offset_s if watch.events else None, error,
                             tuple(dict.fromkeys(e.actor for e in watch.events if e.source == Source.TEAM and e.actor)))
        self._summaries[run_dir] = (key, summary)
        return summary


def state() -> ConsoleState:
    """The ConsoleState of the app serving this request."""
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]
