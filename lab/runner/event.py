"""`gameday event`: one scenario for several teams at once, each on a stack of its own with its own
seeded variant, and the scoreboard across them.

    plan (lab.core.event) ──▶ capacity check ──▶ <root>/events/<event>/
                                                   event.json          the plan, each team's seed, stack, run, status
                                                   <team>.yaml         the team's scenario: its variant, the rules
                                                   <team>.log          its drill's output
                         ──▶ every team's stack up (a few at once) ──▶ one `gameday drill` process per team
                             (together or staggered) ──▶ the scoreboard while they run ──▶ the event report
                         ──▶ on the end, on Ctrl-C / SIGTERM / `gameday halt --all`, on any failure:
                             every drill halted (its faults reverted), every stack down

The drills are ordinary runs (`gameday score`, `report`, the console's history work on each); the
event adds the comparison (lab.report.event).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lab.catalog import CATALOG
from lab.core.event import Capacity, EventPlan, Standing, rank, team_seeds
from lab.errors import LabError, UsageError
from lab.stack.base import Progress, Stack, no_progress
from lab.stack.config import load_config
from lab.stack.files import write_atomic
from lab.stack.open import open_stack
from lab.timeline import rundir

EVENT_FILE = "event.json"
UP_AT_ONCE = 4  # team stacks started at once (each start is mostly waiting on its database)
# What one team's embedded stack takes while the March drill runs, from benchmarks/capacity.py on
# a 2-core, 24 GiB machine: 0.32-0.53 cores on average and 260-280 MB (PSS) per team; 3 teams held
# and recovered, 4 did not (their surges starve each other). 0.6 cores makes 3 fit on 2 cores.
# `gameday event --stack-cpu/--stack-memory` states another cost (a lighter scenario, a bigger box).
STACK_CPU = 0.6
STACK_MEMORY_MB = 300.0


def events_dir(root: Path) -> Path:
    return root / "events"


def machine_capacity(stack_cpu: float = STACK_CPU, stack_memory_mb: float = STACK_MEMORY_MB) -> Capacity:
    import psutil

    return Capacity(cores=float(os.cpu_count() or 1), memory_mb=psutil.virtual_memory().available / 1e6,
                    stack_cpu=stack_cpu, stack_memory_mb=stack_memory_mb)


@dataclass
class Team:
    """One team of the event: its seed, stack, scenario file, drill process and run."""

    name: str
    responder: str
    seed: int
    stack_name: str
    scenario_file: Path
    delay_s: float
    stack: Stack | None = None
    proc: subprocess.Popen[str] | None = None
    run_dir: Path | None = None
    outcome: str | None = None
    error: str | None = None
    urls: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"team": self.name, "responder": self.responder, "seed": self.seed, "stack": self.stack_name,
                "urls": self.urls,
                "scenario_file": str(self.scenario_file), "run_dir": str(self.run_dir) if self.run_dir else None,
                "run_id": self.run_dir.name if self.run_dir else None, "outcome": self.outcome, "error": self.error,
                "pid": self.proc.pid if self.proc else None}


@dataclass
class EventRun:
    """The event's life: prepare, stacks up, drills, scoreboard, everything down."""

    plan: EventPlan
    root: Path
    progress: Progress = no_progress
    capacity: Capacity | None = None
    teams: list[Team] = field(default_factory=list)
    status: str = "preparing"
    _halt: threading.Event = field(default_factory=threading.Event)

    @property
    def dir(self) -> Path:
        return events_dir(self.root) / self.plan.event

    # --- before anything starts: every check -----------------------------------------------------

    def prepare(self) -> None:
        """Check the machine can hold the teams and write each team's scenario (its variant, the
        event's rules); UsageError before anything starts."""
        if self.capacity is not None:
            refusal = self.capacity.refusal(len(self.plan.teams), self.plan.stack)
            if refusal:
                raise UsageError(refusal)
        live = self._live_marker()
        if live:
            raise UsageError(f"event '{self.plan.event}' is already running (pid {live}); "
                             f"`gameday halt --all` stops it, or choose another event name")
        path = CATALOG.resolve(self.plan.scenario)
        seeds = team_seeds(self.plan)
        self.dir.mkdir(parents=True, exist_ok=True)
        for index, team in enumerate(self.plan.teams):
            scenario, text = CATALOG.load(path, seed=seeds[team.name])
            doc = yaml.safe_load(text)
            if self.plan.time_limit_s is not None:
                doc["time_limit_s"] = self.plan.time_limit_s
            if not self.plan.hints:
                doc["hints"] = []
            target = self.dir / f"{team.name}.yaml"
            write_atomic(target, f"# event {self.plan.event}, team {team.name}: {scenario.id}, seed {seeds[team.name]}\n"
                         + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=1000))
            CATALOG.load(target)  # as the drill will read it
            self.teams.append(Team(team.name, team.responder, seeds[team.name], self.plan.stack_name(team.name),
                                   target, self.plan.start_delay(index)))
        self.save()

    def _live_marker(self) -> int | None:
        try:
            info = json.loads((self.dir / EVENT_FILE).read_text())
        except (OSError, ValueError):
            return None
        pid = info.get("pid")
        from lab.stack import procs

        return pid if info.get("status") in ("starting", "running") and pid and procs.alive(int(pid)) else None

    def save(self) -> None:
        write_atomic(self.dir / EVENT_FILE, json.dumps({
            "event": self.plan.event, "plan": self.plan.model_dump(), "status": self.status, "pid": os.getpid(),
            "root": str(self.root), "teams": [t.to_dict() for t in self.teams], "saved": time.time(),
        }, indent=2))

    # --- the stacks ------------------------------------------------------------------------------

    def up(self) -> None:
        """Every team's stack, a few at once; any failure downs those already up and raises."""
        self.status = "starting"
        self.save()
        scenario, _ = CATALOG.load(self.teams[0].scenario_file)
        config = load_config(None, scenario.stack.overrides())
        for team in self.teams:
            team.stack = open_stack(team.stack_name, self.root, self.plan.stack, config)
            if team.stack.is_up():
                raise UsageError(f"stack '{team.stack_name}' is already up; `gameday down --name {team.stack_name}` "
                                 f"first, or choose another event name")
        done = 0

        def one(team: Team) -> None:
            nonlocal done
            assert team.stack is not None
            if self._halt.is_set():
                return
            began = time.monotonic()
            team.stack.up()
            team.urls = team.stack.urls()
            done += 1
            self.progress(f"stack {team.stack_name} up in {time.monotonic() - began:.1f} s ({done}/{len(self.teams)})")

        with ThreadPoolExecutor(max_workers=min(UP_AT_ONCE, len(self.teams)), thread_name_prefix="event-up") as pool:
            failures = [f.exception() for f in [pool.submit(one, t) for t in self.teams]]
        problems = [exc for exc in failures if exc is not None]
        if problems:
            raise LabError(f"a team's stack did not come up: {problems[0]}")
        if self._halt.is_set():
            raise LabError("halted while the stacks came up")

    def down(self) -> None:
        """Every team's stack down (those that came up, and any a failed start left)."""
        stacks = [t.stack for t in self.teams if t.stack is not None]

        def one(stack: Stack) -> None:
            try:
                if stack.down(purge=False):
                    self.progress(f"stack {stack.name} down")
            except Exception as exc:  # one stack's trouble must not keep the others up
                self.progress(f"stack {stack.name}: could not go down: {exc}")

        if stacks:
            with ThreadPoolExecutor(max_workers=min(UP_AT_ONCE, len(stacks)), thread_name_prefix="event-down") as pool:
                list(pool.map(one, stacks))

    # --- the drills ------------------------------------------------------------------------------

    def start(self, team: Team) -> None:
        flags = {"autopilot": ["--autopilot"], "wrong_turns": ["--wrong-turns"]}.get(team.responder, [])
        argv = [sys.executable, "-m", "lab.cli", "drill", str(team.scenario_file), "--quiet", "--name",
                team.stack_name, "--team", team.name, "--speed", repr(self.plan.speed), *flags]
        log = open(self.dir / f"{team.name}.log", "w")  # noqa: SIM115 - handed to the child
        try:
            team.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                         env={**os.environ, "GAMEDAY_ROOT": str(self.root)}, start_new_session=True)
        finally:
            log.close()
        self.progress(f"team {team.name}: drill started on {team.stack_name} (seed {team.seed}"
                      + (f", {team.responder}" if team.responder != "people" else "") + ")")
        if team.responder == "people":
            site = team.urls.get("arcade", "")
            self.progress(f"  team {team.name} responds on stack {team.stack_name}" + (f" (Arcade at {site})" if site else "")
                          + f": `gameday <command> --name {team.stack_name}` (ack, act inspect-db, note, resolve, ...), "
                            f"`gameday shell --name {team.stack_name}`, or its console: `gameday console --name {team.stack_name}`")

    def drills(self, on_tick: Any = None) -> None:
        """Start every team's drill (after its delay) and wait until every one has ended."""
        self.status = "running"
        self.save()
        began = time.monotonic()
        pending = list(self.teams)
        last_save = 0.0
        while True:
            now = time.monotonic()
            for team in [t for t in pending if now - began >= t.delay_s and not self._halt.is_set()]:
                pending.remove(team)
                self.start(team)
            for team in self.teams:
                if team.proc is not None and team.run_dir is None:
                    team.run_dir = self._run_of(team)
                if team.proc is not None and team.outcome is None and team.proc.poll() is not None:
                    team.run_dir = team.run_dir or self._run_of(team)
                    team.outcome = _outcome(team)
                    if team.proc.returncode not in (0, None) and team.outcome == "unknown":
                        team.error = f"the drill exited with code {team.proc.returncode}; see {self.dir / (team.name + '.log')}"
                    self.progress(f"team {team.name}: {team.outcome.replace('_', ' ')}")
            started = [t for t in self.teams if t.proc is not None]
            if (self._halt.is_set() and all(t.proc is not None and t.proc.poll() is not None for t in started)) or (
                    not pending and all(t.outcome is not None for t in started)):
                break
            if now - last_save >= 2.0:
                self.save()
                last_save = now
                if on_tick is not None:
                    on_tick(self)
            time.sleep(0.2)
        self.status = "halted" if self._halt.is_set() else "ended"
        self.save()

    def _run_of(self, team: Team) -> Path | None:
        """The run directory of the team's drill (its stack's drill marker, or the newest run of the team)."""
        from lab.timeline.recorder import drill_marker

        if team.stack is not None:
            info = drill_marker(team.stack)
            if info and info.get("run_dir"):
                return Path(info["run_dir"])
        runs = sorted(rundir.runs_dir(self.root).glob(f"*-{team.name}"))
        mine = [r for r in runs if (r / rundir.SCENARIO).is_file() and str(team.seed) in (r / rundir.SCENARIO).read_text()[:200]]
        return mine[-1] if mine else None

    def halt(self) -> None:
        """Stop every drill (SIGTERM: each halts and reverts its faults); safe from a signal handler."""
        self._halt.set()
        for team in self.teams:
            if team.proc is not None and team.proc.poll() is None:
                try:
                    team.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    pass

    def run(self, on_tick: Any = None) -> None:
        """The whole event; whatever happens, every drill is stopped and every stack goes down."""
        self.prepare()
        try:
            self.up()
            self.drills(on_tick)
        finally:
            self.halt() if any(t.proc is not None and t.proc.poll() is None for t in self.teams) else None
            for team in self.teams:
                if team.proc is not None:
                    try:
                        team.proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        team.proc.kill()
                        team.proc.wait()
            if self.status not in ("ended", "halted"):
                self.status = "failed"
            self.down()
            self.save()


def _outcome(team: Team) -> str:
    """How the team's drill ended, from its timeline (drill.ended), else 'unknown'."""
    if team.run_dir is None:
        return "unknown"
    from lab.timeline.store import TimelineStore

    for event in reversed(TimelineStore(team.run_dir / rundir.EVENTS).read()):
        if event.kind == "drill.ended":
            return str(event.data.get("outcome") or "unknown")
        if event.kind == "drill.aborted":
            return "aborted"
    return "unknown"


# --- the scoreboard --------------------------------------------------------------------------------


def load_event(ref: str | None, root: Path) -> dict[str, Any]:
    """An event's record by name (the newest when None); UsageError naming what exists."""
    base = events_dir(root)
    known = sorted((p.parent for p in base.glob(f"*/{EVENT_FILE}")), key=lambda p: p.stat().st_mtime)
    if not known:
        raise UsageError(f"no events under {base}; `gameday event run` starts one")
    if ref is None:
        chosen = known[-1]
    else:
        chosen = base / ref
        if not (chosen / EVENT_FILE).is_file():
            raise UsageError(f"unknown event '{ref}'; known: {', '.join(p.name for p in known)}")
    try:
        return json.loads((chosen / EVENT_FILE).read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError) as exc:
        raise UsageError(f"{chosen / EVENT_FILE}: unreadable ({exc})") from None


def standings(info: dict[str, Any]) -> list[dict[str, Any]]:
    """Every team's live row (score, phase, times), ranked for the scoreboard."""
    from lab.core.event import phase_of
    from lab.report.cli import scored
    from lab.report.run import load_run

    rows: dict[str, dict[str, Any]] = {}
    standing: list[Standing] = []
    for team in info.get("teams", []):
        row: dict[str, Any] = {"team": team["team"], "seed": team["seed"], "responder": team["responder"],
                               "run_id": team.get("run_id"), "outcome": team.get("outcome"), "score": None,
                               "phase": "waiting", "first_alert_s": None, "ack_s": None, "diagnosis_s": None,
                               "recovered_s": None, "hints": 0}
        run_dir = Path(team["run_dir"]) if team.get("run_dir") else None
        if run_dir is not None and (run_dir / rundir.EVENTS).is_file():
            try:
                run = load_run(run_dir)
                card, _ = scored(run)
            except LabError:
                card = None
            if card is not None:
                ph = card.phases
                origin = ph.origin_s
                row.update(score=round(card.total, 1), phase=phase_of(ph, team.get("outcome")),
                           first_alert_s=origin, hints=len(card.deductions),
                           ack_s=_since(ph.ack_s, origin), diagnosis_s=_since(ph.diagnosis_s, origin),
                           recovered_s=_since(ph.impact_end_s, ph.impact_start_s))
        rows[team["team"]] = row
        standing.append(Standing(team["team"], row["score"], row["recovered_s"], row["phase"]))
    ranked = rank(standing)
    return [{"rank": i + 1, **rows[s.team]} for i, s in enumerate(ranked)]


def _since(t: float | None, origin: float | None) -> float | None:
    return None if t is None or origin is None else round(t - origin, 1)
