"""Verify one scenario on real stacks: the autopilot drill, the wrong-turns drill, teardown.

    validate ─▶ stack up ─▶ Drill(autopilot) ─▶ stack down ─▶ read run dir ─▶ evaluate checks
                                                                 │ all passed and wrong_turns declared
                                          stack up (fresh) ─▶ Drill(wrong_turns, faster) ─▶ stack down ─▶ score

Each scenario works under its own directory `<verify root>/<n>-<scenario id>/` (stacks, runs,
copies of the stacks' logs); it is deleted when every check passed and kept otherwise. Every stack
is stopped (and its cluster deleted) on every path, and a halt (Ctrl-C, SIGTERM) stops the drills
within a second. The drill loop is the runner's own (lab.runner.drill): verify only reads what a
drill writes.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.scenario import Scenario
from lab.core.scoring import ScoreCard, score
from lab.faults import FAULTS
from lab.report.run import load_run
from lab.runner.drill import Drill, DrillOptions, DrillRefused
from lab.stack import open as stack_opener
from lab.stack.base import Stack
from lab.stack.config import StackConfig, load_config
from lab.stack.open import KINDS
from lab.timeline import rundir
from lab.timeline.store import TimelineStore
from lab.verify import evaluate
from lab.verify.evaluate import DrillRecord, Second, SymptomSpec
from lab.verify.model import ORDER, Check, ScenarioReport, Status, error, skipped

STACK_MODES = KINDS


def open_stack(mode: str, name: str, root: Path, config: StackConfig) -> Stack:
    """The stack a scenario is verified on (`--stack local|compose`)."""
    return stack_opener.open_stack(name, root, mode, config)


def report_id(scenario: Scenario) -> str:
    """How a scenario is named in verify's reports: its id, and the seed of a variant (id@seed)."""
    return scenario.id if scenario.seed is None else f"{scenario.id}@{scenario.seed}"


def check_stack_mode(mode: str) -> None:
    """Refuse, before anything starts, a kind of stack that cannot run here (MissingDependencyError:
    no Docker engine, no Compose CLI, images not built: the kind's own preflight says which)."""
    stack_opener.stack_class(mode)("preflight").preflight()


@dataclass(frozen=True)
class VerifyOptions:
    stack: str = "local"
    speed: float = 10.0
    root: Path = Path(".gameday/verify")
    steady_timeout_s: float = 30.0
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:4])  # keeps stack names unique per run


class Cancel:
    """Halts every running drill (Ctrl-C, SIGTERM); scenarios not yet started are skipped."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._drills: set[Drill] = set()
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        return self.event.is_set()

    def halt(self) -> None:
        self.event.set()
        with self._lock:
            for drill in self._drills:
                drill.halt()

    def watch(self, drill: Drill) -> None:
        with self._lock:
            self._drills.add(drill)
            if self.event.is_set():
                drill.halt()

    def forget(self, drill: Drill) -> None:
        with self._lock:
            self._drills.discard(drill)


def symptom_spec(kind: str) -> SymptomSpec:
    """The symptom a fault kind declares, in the probe's terms."""
    declared = FAULTS[kind].symptom
    return SymptomSpec(declared.description, declared.availability_below, declared.latency_p95_above_ms,
                       declared.route)


def read_seconds(run_dir: Path) -> list[Second]:
    """The probe's seconds after the drill started, as the checks read them (lab.timeline.rundir parses)."""
    return [Second(r.offset_s, r.total, r.ok, r.p95_ms, r.failures) for r in rundir.read_sli(run_dir)]


def read_record(run_dir: Path, speed: float, began_wall: float | None = None) -> DrillRecord:
    return evaluate.record_from(TimelineStore(run_dir / rundir.EVENTS).read(), read_seconds(run_dir), speed, began_wall)


def score_run(run_dir: Path) -> ScoreCard:
    run = load_run(run_dir)
    return score(run.timeline, run.runbook, run.scenario)


@dataclass
class DrillRun:
    """One drill verify ran: where it wrote, what it recorded."""

    run_dir: Path
    record: DrillRecord
    seconds: float


class ScenarioVerify:
    """Every check of one scenario, on stacks of its own."""

    def __init__(self, index: int, path: Path, display: str, scenario: Scenario, text: str, validate_s: float,
                 options: VerifyOptions, cancel: Cancel, on_check: Callable[[ScenarioReport, Check], None]):
        self.scenario, self.text, self.options, self.cancel, self.on_check = scenario, text, options, cancel, on_check
        self.validate_s = validate_s
        self.dir = (options.root / f"{index:02d}-{scenario.id}").absolute()
        # Compose project names are machine-wide: the run's token keeps two verify runs apart.
        self.name = f"v{index}-{options.token}-{scenario.id}"[:32].rstrip("-_")
        self.report = ScenarioReport(report_id(scenario), display, options.stack, options.speed)
        self.down_s = 0.0
        self.down_problems: list[str] = []
        self.failed_run: Path | None = None
        self.autopilot_total = 0.0

    # --- the sequence ----------------------------------------------------------------------------

    def run(self) -> ScenarioReport:
        started = time.monotonic()
        self.report.started_wall = time.time()
        self.add(Check("validate", Status.PASSED, round(self.validate_s, 2), "the scenario and its runbook valid",
                       f"{len(self.scenario.faults)} fault steps, runbook {self.scenario.runbook}",
                       (("faults", len(self.scenario.faults)), ("runbook", self.scenario.runbook))))
        try:
            autopilot = self._autopilot()
            if autopilot is not None:
                self._wrong_turns(autopilot)
        except Exception as exc:  # the lab itself failed: an error check, and the next scenario still runs
            self.add(error(self._next_name(), f"{type(exc).__name__}: {exc}"))
        finally:
            self._teardown()
        self._fill_skipped()
        self.report.seconds = round(time.monotonic() - started, 2)
        self._keep_or_clean()
        return self.report

    def add(self, check: Check) -> None:
        self.report.checks.append(check)
        self.on_check(self.report, check)

    def _names(self) -> set[str]:
        return {c.name for c in self.report.checks}

    def _all_names(self) -> list[str]:
        out: list[str] = []
        skip = "slo_breach" if not self.scenario.slo_breaks else "slo_holds"
        for name in ORDER:
            if name != skip:
                out += [f"symptom[{s.id}]" for s in self.scenario.faults] if name == "symptom" else [name]
        return out

    def _next_name(self) -> str:
        """The check in progress: the first one not reported yet."""
        names = self._names()
        return next((name for name in self._all_names() if name not in names), "teardown")

    def _drill(self, responder: str, speed: float) -> tuple[DrillRun | None, Check | None]:
        """Bring a fresh stack up and run one drill on it; (the run, None) or (None, the failed stack_up)."""
        if self.cancel.is_set():
            return None, skipped("stack_up", "halted before this scenario's stack started")
        config = load_config(None, self.scenario.stack.overrides())
        stack = open_stack(self.options.stack, self.name, self.dir, config)
        began = time.monotonic()
        try:
            stack.up()
        except Exception as exc:
            self._down(stack, responder)
            return None, Check("stack_up", Status.ERROR, round(time.monotonic() - began, 2),
                               "a fresh stack healthy", f"{type(exc).__name__}: {exc}")
        up = Check("stack_up", Status.PASSED, round(time.monotonic() - began, 2), "a fresh stack healthy",
                   f"{len(stack.services)} services healthy", (("services", len(stack.services)),))
        drill = None
        try:
            options = DrillOptions(team=responder.replace("_", "-"), speed=speed, responder=responder, actor=responder,
                                   steady_timeout_s=self.options.steady_timeout_s)
            drill = Drill(self.scenario, self.text, stack, options)
            self.cancel.watch(drill)
            began, began_wall = time.monotonic(), time.time()
            try:
                drill.run()
            except DrillRefused:
                pass  # the steady_state check reports it from the run's events
            return DrillRun(drill.run_dir, read_record(drill.run_dir, speed, began_wall), time.monotonic() - began), up
        finally:
            if drill is not None:
                self.cancel.forget(drill)
            self._down(stack, responder)

    def _autopilot(self) -> DrillRun | None:
        """Steady state, schedule, symptoms, SLO breach, recovery and score of the autopilot drill."""
        run, up = self._drill("autopilot", self.options.speed)
        if up is not None:
            self.add(up)
        if run is None:
            return None
        record, scenario = run.record, self.scenario
        self.add(evaluate.steady_state(scenario, record))
        if record.steady is None:
            self.failed_run = run.run_dir
            return None
        self.add(evaluate.schedule(scenario, record))
        slo_window = max(3, round(scenario.success.slo_holds_s / record.speed))
        for step in scenario.faults:
            self.add(evaluate.symptom(step.id, symptom_spec(step.kind), record, scenario.success.availability_min,
                                      slo_window, holds=not scenario.slo_breaks))
        if scenario.slo_breaks:
            breach = evaluate.slo_breach(scenario, record, slo_window)
            self.add(breach)
            self.add(evaluate.recovery(scenario, record, evaluate.breach_at(breach)))
        else:  # the site is to hold its SLO (a postmortem's corrective measures in place)
            self.add(evaluate.slo_holds(scenario, record, slo_window))
            self.add(evaluate.recovery(scenario, record, None))
        began = time.monotonic()
        card = score_run(run.run_dir)
        self.report.properties["autopilot.run_id"] = run.run_dir.name
        self.add(evaluate.autopilot_score(card.total, card.par_score,
                                          [(c.key, c.points, c.weight) for c in card.components],
                                          time.monotonic() - began))
        if any(c.bad for c in self.report.checks):
            self.failed_run = run.run_dir
            return None
        self.autopilot_total = card.total
        return run

    def _wrong_turns(self, autopilot: DrillRun) -> None:
        if not self.scenario.wrong_turns:
            self.add(skipped("wrong_turns", "the scenario declares no wrong-turns responder"))
            return
        speed = evaluate.wrong_turns_speed(self.scenario, self.options.speed)
        began = time.monotonic()
        run, up = self._drill("wrong_turns", speed)
        if run is None:
            assert up is not None
            self.add(Check("wrong_turns", up.status, up.seconds, "a fresh stack for the wrong-turns drill",
                           up.measured) if up.status is not Status.SKIPPED else skipped("wrong_turns", up.measured))
            return
        self.report.properties["wrong_turns.run_id"] = run.run_dir.name
        if run.record.steady is None:
            self.failed_run = run.run_dir
            self.add(Check("wrong_turns", Status.ERROR, round(time.monotonic() - began, 2),
                           "the wrong-turns drill to start", f"steady state not met ({run.record.outcome})"))
            return
        card = score_run(run.run_dir)
        check = evaluate.wrong_turns(card.total, self.autopilot_total, run.record.outcome, speed,
                                     time.monotonic() - began)
        if check.bad:
            self.failed_run = run.run_dir
        self.add(check)

    # --- cleanup -----------------------------------------------------------------------------------

    def _down(self, stack: Any, label: str) -> None:
        """Stop the stack and delete its data; keep a copy of its logs beside the runs."""
        began = time.monotonic()
        try:
            self._save_logs(stack, self.dir / "logs" / label)
            stack.down(purge=True)
            if stack.is_up():
                self.down_problems.append(f"{label} stack still running after down")
        except Exception as exc:
            self.down_problems.append(f"{label} stack: {type(exc).__name__}: {exc}")
        finally:
            self.down_s += time.monotonic() - began

    @staticmethod
    def _save_logs(stack: Any, target: Path) -> None:
        logs = stack.run_dir / "logs"
        if logs.is_dir():  # the embedded stack's log files
            shutil.copytree(logs, target, dirs_exist_ok=True)
            return
        if not stack.is_up():
            return
        target.mkdir(parents=True, exist_ok=True)
        for service in stack.services:  # containers: their last lines
            try:
                (target / f"{service}.log").write_text(stack.logs(service, 500))
            except Exception as exc:
                (target / f"{service}.log").write_text(f"logs unavailable: {exc}\n")

    def _teardown(self) -> None:
        if "stack_up" not in self._names() or self.report.check("stack_up").status is Status.SKIPPED:
            return
        ok = not self.down_problems
        self.add(Check("teardown", Status.PASSED if ok else Status.ERROR, round(self.down_s, 2),
                       "every stack stopped, clusters deleted",
                       "; ".join(self.down_problems) or "nothing left running"))

    def _fill_skipped(self) -> None:
        """Checks that did not run say why, so every scenario lists the same checks."""
        names = self._names()
        first_bad = next((c.name for c in self.report.checks if c.bad or c.status is Status.SKIPPED), None)
        why = f"depends on {first_bad}" if first_bad else "not reached"
        for name in [n for n in self._all_names() if n not in names]:
            self.report.checks.append(skipped(name, why))
        order = {name: i for i, name in enumerate(ORDER)}
        self.report.checks.sort(key=lambda c: order[c.name.split("[")[0]])

    def _keep_or_clean(self) -> None:
        if self.report.passed:
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir.exists():
            self.report.kept = str(self.failed_run or self.dir)
