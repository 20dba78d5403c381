"""One drill: a scenario run against a real stack, recorded, and always cleaned up.

    recover leftovers ─▶ baseline traffic ─▶ monitor ─▶ steady state? ──no──▶ refuse (nothing injected)
                                                            │ yes
                                           lobby (--lobby, --start-after): the story told, baseline
                                           traffic on, until the facilitator starts the clock
                ┌──────────────── every 50 ms ──────────────┘
                │ halt? ─▶ alerts ─▶ due steps (inject, revert, respond, hints) ─▶ ended? (lab.runner.ending:
                │          the team's resolve and its relapse window; scripted responders: recovered) time limit?
                └─▶ finally: revert this run's faults, traffic back to baseline, drill.ended

The run directory `<root>/runs/<run-id>/` keeps a copy of the scenario, the events (JSONL),
the probe's per-second SLIs (`sli.jsonl`, with drill offsets) and this run's part of the fault
journal.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lab.actions.base import ActionContext
from lab.actions.perform import actions_in_flight, perform
from lab.core import escalation, lease
from lab.core.scenario import Scenario
from lab.core.schedule import due, scale_durations
from lab.core.timeline import Event, Source
from lab.errors import LabError, UsageError
from lab.faults import engine
from lab.faults.journal import FaultJournal
from lab.monitor.events import AlertEvent, JsonlLog
from lab.monitor.load import LoadControl
from lab.monitor.monitor import Monitor, MonitorConfig, MonitorThread, Tick, tick_record
from lab.monitor.probe import ProbeConfig
from lab.monitor.rules import default_rules
from lab.runner import ending
from lab.runner.clock import Clock
from lab.runner.people import PeopleMixin
from lab.stack.base import Stack
from lab.timeline import rundir
from lab.timeline.observers import EXPLAIN_WINDOW_S, explained_by, observers_for
from lab.timeline.store import TimelineStore


class DrillRefused(LabError):
    """The stack did not meet the scenario's steady state, so no fault was injected."""


@dataclass
class DrillOptions:
    team: str = "team"
    speed: float = 1.0
    responder: str | None = None  # "autopilot", "wrong_turns" or None (people respond)
    actor: str = "team"
    steady_timeout_s: float = 30.0
    lobby: bool = False  # wait for the facilitator's start (or start_after_s) before the clock runs
    start_after_s: float | None = None  # real seconds in the lobby before the clock starts by itself


@dataclass
class DrillResult:
    run_id: str
    run_dir: Path
    outcome: str  # "resolved", "resolved_too_early", "recovered", "time_limit", "halted", "aborted" (refused, error raise)
    drill_seconds: float
    real_seconds: float
    events: int


@dataclass
class DrillStatus:
    """What the live view shows."""

    drill_s: float = 0.0
    availability: float | None = None
    p95_ms: float | None = None
    firing: tuple[str, ...] = ()
    recent: list[Event] = field(default_factory=list)
    phase: str = "starting"


class TimelineSink:
    """Monitor alert events onto the drill's timeline (source: monitor)."""

    def __init__(self, drill: Drill):
        self.drill = drill

    def emit(self, event: AlertEvent) -> None:
        self.drill.alert(event)


def _run_id(scenario: Scenario, team: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{scenario.id}-{team}"


class Drill(PeopleMixin):
    """Runs one scenario on one stack; `halt()` may be called from any thread or a signal handler."""

    def __init__(self, scenario: Scenario, scenario_text: str, stack: Stack, options: DrillOptions,
                 on_status: Callable[[DrillStatus], None] | None = None):
        self.scenario = scenario
        self.stack = stack
        self.options = options
        self.on_status = on_status
        self.run_id = _run_id(scenario, options.team)
        self.run_dir = (rundir.runs_dir(stack.root) / self.run_id).absolute()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / rundir.SCENARIO).write_text(scenario_text)
        self.clock = Clock(options.speed)
        self.timeline = TimelineStore(self.run_dir / rundir.EVENTS)
        self.happened: dict[str, float] = {}
        self.done: set[str] = set()
        self.fault_ids: dict[str, str] = {}
        self._halt = threading.Event()
        self.started = threading.Event()  # set once the steady state held and drill time began
        self._lock = threading.Lock()
        self.status = DrillStatus()
        self.monitor: MonitorThread | None = None
        self.breached = False
        self._last_cause_check = 0.0
        self._tail = 0  # how far the drill has read its own timeline (for pages to other teams)
        self._last_tail = 0.0
        self.escalations: list[escalation.Escalation] = []
        self._recent: list[Event] = []  # the last EXPLAIN_WINDOW_S seconds of events, and a margin
        self._read_lock = threading.Lock()
        self._faults_in_flight: list[str] = []  # kinds being injected or reverted right now
        self.marker_path = self.stack.run_dir / rundir.DRILL_MARKER
        self._marker: dict[str, Any] = {}
        self._resolve_seen: Event | None = None  # the team's first `resolve`, once read
        self.resolution: ending.Resolution | None = None
        self._recovered_at: float | None = None  # a people's drill: when the lab saw the site recovered
        self._last_waiting = 0.0
        self._present: list[str] = []  # causes still present, as last checked during the relapse window
        self.lease_terms = lease.drill_terms(options.speed)  # the leases of this run's faults (lab.core.lease)
        self._lost = False  # the watchdog reverted this run's faults: its leases ran out while it was stalled

    # --- public ------------------------------------------------------------------------------

    def halt(self) -> None:
        self._halt.set()

    def run(self) -> DrillResult:
        marker = self.marker_path
        self._set_marker(pid=os.getpid(), run_id=self.run_id, run_dir=str(self.run_dir), phase="starting")
        real_start = time.monotonic()
        outcome = "refused"  # until the steady state holds
        try:
            for active in engine.revert_all(self.stack):
                self.record(Source.RUNNER, "fault.recovered", {"fault_id": active.fault_id, "kind": active.kind})
            self._set_baseline()
            config = MonitorConfig(probe=ProbeConfig(rate=2.0, timeout_s=2.0), rules=self._rules())
            sli = JsonlLog(self.run_dir / rundir.SLI)
            watcher = Monitor(self.stack.urls()["arcade"], self.stack.admin_target(), config, TimelineSink(self),
                              on_tick=lambda tick: sli.write({"offset_s": round(self.clock.now(), 3),
                                                              "started": self.started.is_set(), **tick_record(tick)}))
            with MonitorThread(watcher) as monitor:
                self.monitor = monitor
                steady = self._steady_state()
                self.record(Source.RUNNER, "steady_state.ok", steady, offset_s=0.0)
                started_by = self._lobby() if self.options.lobby or self.options.start_after_s is not None else None
                if self._halt.is_set():
                    self.record(Source.FACILITATOR, "drill.halt", {"in": "lobby"}, offset_s=0.0)
                    outcome = "halted"
                    return self._result(outcome, real_start)
                self.clock = Clock(self.options.speed)
                self.timeline.started_mono = time.monotonic()
                self.record(Source.RUNNER, "drill.started", {
                    "scenario": self.scenario.id, "team": self.options.team, "speed": self.options.speed,
                    "responder": self.options.responder, "run_id": self.run_id,
                    "time_limit_s": self.scenario.time_limit_s,
                    **({"seed": self.scenario.seed} if self.scenario.seed is not None else {}),
                    "started_wall": round(time.time() - self.clock.now() / self.options.speed, 3),
                    **({"started_by": started_by} if started_by else {}),
                })
                self._set_marker(phase="running", speed=self.options.speed,
                                 started_wall=time.time() - self.clock.now() / self.options.speed)
                self.started.set()
                outcome = "halted"
                observe = observers_for(self.stack, self.observed)
                try:
                    with self._renewing(), observe:
                        outcome = self._loop()
                finally:  # before the monitor stops: a halt reverts within a second
                    self._revert_faults()
                    marker.unlink(missing_ok=True)
        except DrillRefused:
            raise
        except BaseException as exc:
            outcome = "error"
            self.record(Source.RUNNER, "drill.error", {"error": f"{type(exc).__name__}: {exc}"})
            raise
        finally:
            try:
                self._cleanup(outcome)
            finally:
                marker.unlink(missing_ok=True)
        return self._result(outcome, real_start)

    def _result(self, outcome: str, real_start: float) -> DrillResult:
        return DrillResult(self.run_id, self.run_dir, outcome, round(self.clock.now(), 1) if self.started.is_set() else 0.0,
                           round(time.monotonic() - real_start, 1), len(self.timeline.read()))

    # --- recording -----------------------------------------------------------------------------

    def record(self, source: Source, kind: str, data: dict[str, Any], actor: str = "lab",
               offset_s: float | None = None) -> Event:
        event = self.timeline.append(source, kind, actor, data, offset_s=self.clock.now() if offset_s is None else offset_s)
        with self._lock:
            self.status.recent = [*self.status.recent[-7:], event]
        return event

    def observed(self, kind: str, data: dict[str, Any]) -> None:
        """An observer saw a change (called on its thread). Recorded unless the lab made it: a
        team action or fault running now, or one that ended within EXPLAIN_WINDOW_S."""
        self._read_recent()
        in_flight = [(Source.TEAM, marker) for marker in actions_in_flight(self.stack)]
        in_flight += [(Source.RUNNER, {"kind": k}) for k in list(self._faults_in_flight)]
        with self._read_lock:
            recent = list(self._recent)
        if explained_by(kind, time.time(), recent, in_flight, observed=data) is None:
            self.record(Source.OBSERVER, kind, data, "observer")

    def _read_recent(self) -> None:
        """Read the drill's own new events: pages to other teams, and the recent window that
        explains observed changes (called from the loop and the observers' thread)."""
        with self._read_lock:
            self._read_recent_locked()

    def _read_recent_locked(self) -> None:
        events, self._tail = self.timeline.read_from(self._tail)
        for event in events:
            if event.source is Source.FACILITATOR and event.kind == "hint.released":
                self.done.add(f"hint:{event.data.get('id')}")  # released early: not again on schedule
            if event.source is Source.TEAM and event.kind == "resolve" and self._resolve_seen is None:
                self._resolve_seen = event
            if event.source is Source.TEAM and event.kind == "escalate":
                team = str((event.data.get("args") or {}).get("team", "")) or "another"
                self.escalations.append(escalation.Escalation(team, event.offset_s))
        horizon = time.time() - 2 * EXPLAIN_WINDOW_S
        self._recent = [e for e in (*self._recent, *events) if e.wall >= horizon]
        if len(self._recent) > 1000:  # a flood of events: the window only needs the latest
            self._recent = self._recent[-1000:]

    def alert(self, event: AlertEvent) -> None:
        """An alert fired or resolved (called on the monitor's thread)."""
        data = {k: v for k, v in event.to_dict().items() if k not in ("t", "source", "kind")}
        self.record(Source.MONITOR, event.kind, data, actor="monitor")
        if event.kind == "alert.firing":
            with self._lock:
                self.happened.setdefault(f"alert:{event.alert}", self.clock.now())

    # --- steps ---------------------------------------------------------------------------------

    def _rules(self) -> tuple[Any, ...]:
        disabled = set(self.scenario.alerts.disabled)
        speed = self.options.speed
        return tuple(replace(rule, for_s=max(2.0, rule.for_s / speed), enabled=rule.enabled and rule.name not in disabled)
                     for rule in default_rules())

    def _set_baseline(self) -> None:
        if "loadgen" in self.stack.services:
            LoadControl(self.stack.address("loadgen")).set(self.scenario.traffic.baseline_rps)

    def window(self, real_seconds: float) -> tuple[float | None, float | None]:
        """(availability, p95 ms) of the probe over the last `real_seconds` whole seconds."""
        assert self.monitor is not None
        ticks: list[Tick] = self.monitor.ticks()[-max(1, int(round(real_seconds))):]
        total = sum(t.probe.total for t in ticks)
        ok = sum(t.probe.ok for t in ticks)
        p95s = [t.probe.p95 for t in ticks if t.probe.p95 is not None]
        return (ok / total if total else None), (max(p95s) * 1000 if p95s else None)

    def _steady_state(self) -> dict[str, Any]:
        steady = self.scenario.steady_state
        need = max(3.0, steady.window_s / self.options.speed)
        assert self.monitor is not None
        deadline = time.monotonic() + self.options.steady_timeout_s
        availability = p95 = None
        while time.monotonic() < deadline and not self._halt.is_set():
            time.sleep(0.25)
            if len(self.monitor.ticks()) < need:
                continue
            availability, p95 = self.window(need)
            if availability is not None and availability >= steady.availability_min and (p95 or 0) <= steady.p95_ms_max:
                return {"availability": availability, "p95_ms": p95}
        self.record(Source.RUNNER, "steady_state.failed", {"availability": availability, "p95_ms": p95})
        shown = "no data" if availability is None else f"{availability:.1%}"
        raise DrillRefused(
            f"steady state not met: availability {shown} (needs {steady.availability_min:.0%}), "
            f"p95 {p95 or 0:.0f} ms (needs <= {steady.p95_ms_max:.0f}); the stack is already unhealthy, "
            f"so no fault was injected (see `gameday status --name {self.stack.name}`)"
        )

    def _responder(self) -> list[Any]:
        if self.options.responder == "autopilot":
            return list(self.scenario.autopilot)
        if self.options.responder == "wrong_turns":
            return list(self.scenario.wrong_turns)
        return []

    def _loop(self) -> str:
        steps = self._responder()
        success_window = max(3.0, self.scenario.success.slo_holds_s / self.options.speed)
        while True:
            if self._halt.is_set():
                if self._lost:  # the watchdog recorded drill.aborted when it took the faults back
                    return "aborted"
                self.record(Source.FACILITATOR, "drill.halt", {})
                return "halted"
            now = self.clock.now()
            with self._lock:
                happened = dict(self.happened)
            for item in due(self.scenario, steps, now, happened, self.done):
                self.done.add(item.key)
                if item.kind == "inject":
                    self._inject(self.scenario.faults[item.index])
                elif item.kind == "revert":
                    self._revert(self.scenario.faults[item.index].id)
                elif item.kind == "respond":
                    self._respond(steps[item.index])
                elif item.kind == "hint":
                    hint = self.scenario.hints[item.index]
                    self.record(Source.RUNNER, "hint.released", {"id": hint.id, "text": hint.text, "cost": hint.cost})
            self._answer_pages(now)
            availability, p95 = self.window(success_window) if self.monitor else (None, None)
            self._update_status(now, availability, p95)
            if availability is not None and availability < self.scenario.success.availability_min and self.fault_ids:
                self.breached = True
            if self._resolve_seen is not None and self.resolution is None:
                self._open_resolution(self._resolve_seen, now)
            if self.resolution is not None:
                ended = self._watch_resolution(now)
                if ended is not None:
                    return ended
            elif self._recovered_at is None and self._recovered(availability):
                if self.options.responder is not None:  # scripted: the lab's test is the end
                    self.record(Source.RUNNER, "drill.recovered", {"availability": availability, "p95_ms": p95})
                    return "recovered"
                self._recovered_at = now  # people: the incident ends when they say so
                self.record(Source.RUNNER, "drill.recovered", {"availability": availability, "p95_ms": p95,
                                                               "awaiting": "resolve"})
            self._update_waiting(now)
            if now >= self.scenario.time_limit_s:
                self.record(Source.RUNNER, "drill.time_limit", {"availability": availability})
                return "time_limit"
            time.sleep(0.05)

    def _answer_pages(self, now: float) -> None:
        """Teams paged with `gameday escalate` answer after a realistic delay, with what they measure."""
        if time.monotonic() - self._last_tail >= 0.5:
            self._last_tail = time.monotonic()
            self._read_recent()
        for page in [p for p in self.escalations if now >= p.due_s]:
            self.escalations.remove(page)
            self.record(Source.FACILITATOR, "escalation.answered", {
                "team": page.team, "asked_at_s": page.asked_at_s, "delay_s": round(now - page.asked_at_s, 1),
                "text": self._answer(page),
            }, actor=f"{page.team} team")

    def _answer(self, page: escalation.Escalation) -> str:
        tool = {"network": "check-network", "database": "inspect-db"}.get(page.kind)
        if tool is None:
            return escalation.other_answer(page.team)
        done = perform(tool, {}, ActionContext(self.stack, f"{page.team} team", self.options.speed))
        if not done.ok:
            return f"{page.team} team here: we could not look ({done.data.get('error')})."
        if page.kind == "network":
            return escalation.network_answer(page.team, done.data["result"])
        return escalation.database_answer(page.team, done.data["result"])

    def _recovered(self, availability: float | None) -> bool:
        """Every fault injected, the SLO broken at some point, now held for the success window,
        and the causes the scenario names gone (checked at most once a second)."""
        if not self.breached or len(self.fault_ids) < len(self.scenario.faults):
            return False
        if availability is None or availability < self.scenario.success.availability_min:
            return False
        if time.monotonic() - self._last_cause_check < 1.0:
            return False
        self._last_cause_check = time.monotonic()
        active = engine.journal_for(self.stack).active()
        for step_id in self.scenario.success.must_be_gone([s.id for s in self.scenario.faults]):
            fault_id = self.fault_ids.get(step_id)
            if fault_id in active and engine.cause_present(self.stack, active[fault_id]):
                return False
        return True

    @contextlib.contextmanager
    def _renewing(self) -> Iterator[None]:
        """Renew the leases of this run's faults while the drill runs (a thread: a long action or
        injection does not starve it); should the watchdog have taken them (the drill was stalled
        past its lease), halt rather than carry on."""
        stop = threading.Event()
        journal = engine.journal_for(self.stack)

        def renew() -> None:
            last = 0.0
            while not stop.is_set():
                now = time.time()
                if now >= lease.next_renewal(last, now, self.lease_terms.renew_every_s):
                    try:
                        mine = [a for a in journal.active().values()
                                if a.run_id == self.run_id and a.lease_until is not None]
                        if mine:  # nothing active of this run: nothing to renew, no line written
                            journal.renew(self.run_id, round(now + self.lease_terms.lease_s, 3))
                        last = now
                        if journal.taken_by("watchdog", self.run_id):
                            self._lost = True
                            self.halt()
                    except OSError:
                        pass  # a full disk for a moment: the next renewal tries again
                stop.wait(min(0.2, self.lease_terms.renew_every_s))

        thread = threading.Thread(target=renew, name="lease-renewal", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join(timeout=5)

    def _inject(self, step: Any) -> None:
        fault_id = engine.new_id(self.stack, step.id)
        params = scale_durations(step.params, self.options.speed)
        try:
            with self._faulting([step.kind]):
                engine.inject(self.stack, step.kind, params, fault_id=fault_id, run_id=self.run_id,
                              lease_s=self.lease_terms.lease_s)
        except Exception as exc:
            self.record(Source.RUNNER, "fault.failed", {"step": step.id, "kind": step.kind, "error": str(exc)})
            return
        self.fault_ids[step.id] = fault_id
        with self._lock:
            self.happened[f"fault:{step.id}"] = self.clock.now()
        self.record(Source.RUNNER, "fault.injected", {"step": step.id, "fault_id": fault_id, "kind": step.kind,
                                                      "params": step.params})

    def _revert(self, step_id: str) -> None:
        fault_id = self.fault_ids.get(step_id)
        active = engine.journal_for(self.stack).active()
        if fault_id and fault_id in active:
            with self._faulting([active[fault_id].kind]):
                engine.revert(self.stack, active[fault_id])
            self.record(Source.RUNNER, "fault.reverted", {"step": step_id, "fault_id": fault_id,
                                                          "kind": active[fault_id].kind})

    def _respond(self, step: Any) -> None:
        actor = self.options.responder or self.options.actor
        try:
            done = perform(step.action, step.args, ActionContext(self.stack, actor, self.options.speed))
        except UsageError as exc:  # validated with the scenario; kept for hand-edited run copies
            self.record(Source.RUNNER, "action.invalid", {"action": step.action, "error": str(exc)})
            return
        data = {**done.data, "note": step.note} if step.note else done.data
        self.record(Source.TEAM, done.kind, data, actor=actor)

    def _update_status(self, now: float, availability: float | None, p95: float | None) -> None:
        with self._lock:
            self.status.drill_s = now
            self.status.availability = availability
            self.status.p95_ms = p95
            self.status.firing = self.monitor.monitor.firing() if self.monitor else ()
            self.status.phase = "running"
            snapshot = replace(self.status, recent=list(self.status.recent))
        if self.on_status:
            self.on_status(snapshot)

    @contextlib.contextmanager
    def _faulting(self, kinds: list[str]) -> Iterator[None]:
        """Faults of these kinds are being injected or reverted: their effects are the lab's own."""
        self._faults_in_flight.extend(kinds)
        try:
            yield
        finally:
            for kind in kinds:
                self._faults_in_flight.remove(kind)

    def _revert_faults(self) -> None:
        """Revert whatever this run still has active (idempotent)."""
        try:
            kinds = [a.kind for a in engine.journal_for(self.stack).active().values()]
            with self._faulting(kinds):
                reverted = engine.revert_all(self.stack, run_id=self.run_id)
        except Exception as exc:
            self.record(Source.RUNNER, "fault.revert_failed", {"error": str(exc)})
            return
        for active in reverted:
            self.record(Source.RUNNER, "fault.reverted", {"fault_id": active.fault_id, "kind": active.kind})

    def _cleanup(self, outcome: str) -> None:
        """Revert this run's faults, put the traffic back, and close the record."""
        started = time.monotonic()
        self._revert_faults()
        try:
            self._set_baseline()
        except Exception:  # the generator may be gone with the stack; nothing left to restore then
            pass
        self.record(Source.RUNNER, "drill.ended", {"outcome": outcome,
                                                   "cleanup_s": round(time.monotonic() - started, 3)})
        records = [r for r in engine.journal_for(self.stack).records()
                   if r.get("run_id") == self.run_id and r.get("op") != "renew"]
        copy = self.run_dir / rundir.FAULTS
        copy.unlink(missing_ok=True)  # the watchdog may have written one while this drill was stalled
        FaultJournal(copy).extend(records)


def install_signal_handlers(drill: Drill) -> None:
    """Ctrl-C and SIGTERM halt the drill (faults reverted by the run loop within a second)."""

    def handler(_sig: int, _frame: object) -> None:
        drill.halt()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
