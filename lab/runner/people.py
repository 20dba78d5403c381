"""The parts of a drill that deal with people rather than faults: the lobby before the clock
starts, the drill marker the console reads (phase, what the drill waits for), and the team's
resolve with its relapse window (decided by lab.runner.ending). Mixed into `Drill`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lab.core.timeline import Event, Source
from lab.faults import engine
from lab.runner import ending
from lab.timeline import rundir
from lab.timeline.recorder import write_marker

if TYPE_CHECKING:
    from lab.core.scenario import Scenario
    from lab.monitor.monitor import MonitorThread
    from lab.runner.drill import DrillOptions
    from lab.stack.base import Stack


class PeopleMixin:
    """Lobby, marker and resolution for `Drill` (which provides the attributes declared here)."""

    scenario: Scenario
    stack: Stack
    options: DrillOptions
    monitor: MonitorThread | None
    fault_ids: dict[str, str]
    marker_path: Path
    _marker: dict[str, Any]
    _halt: Any
    resolution: ending.Resolution | None
    _recovered_at: float | None
    _last_waiting: float
    _present: list[str]
    _resolution_opened: float

    def record(self, source: Source, kind: str, data: dict[str, Any], actor: str = "lab",
               offset_s: float | None = None) -> Event:
        raise NotImplementedError

    def window(self, real_seconds: float) -> tuple[float | None, float | None]:
        raise NotImplementedError

    # --- the lobby and the marker --------------------------------------------------------------

    def _set_marker(self, **fields: Any) -> None:
        """Update the stack's drill marker (what the console and team commands read)."""
        self._marker.update(fields)
        write_marker(self.marker_path, self._marker)

    def _lobby(self) -> str | None:
        """Wait, baseline traffic on and the probe running, for the facilitator's start (the console's
        button or `gameday start`, which write DRILL_GO) or `start_after_s`; who started it (None: halted)."""
        go = self.stack.run_dir / rundir.DRILL_GO
        go.unlink(missing_ok=True)  # a word meant for an earlier lobby
        after = self.options.start_after_s
        deadline = None if after is None else time.monotonic() + after
        how = (f"by itself at {time.strftime('%H:%M:%S', time.localtime(time.time() + after))} (in {after:.0f} s) "
               "or " if after is not None else "")
        waiting = (f"the room: the clock starts {how}when the facilitator starts it "
                   f"(the console's Start button, or `gameday start --name {self.stack.name}`)")
        self._set_marker(phase="lobby", lobby_since=time.time(), waiting=waiting,
                         start_after_wall=None if after is None else time.time() + after)
        self.record(Source.RUNNER, "drill.lobby", {"team": self.options.team, "start_after_s": after}, offset_s=0.0)
        while not self._halt.is_set():
            if go.exists():
                try:
                    who = str(json.loads(go.read_text()).get("by") or "facilitator")
                except (OSError, ValueError):
                    who = "facilitator"
                go.unlink(missing_ok=True)
                return who
            if deadline is not None and time.monotonic() >= deadline:
                return "start-after"
            time.sleep(0.1)
        return None

    # --- how it ends (lab.runner.ending) --------------------------------------------------------

    def _open_resolution(self, event: Event, now: float) -> None:
        args = event.data.get("args") if isinstance(event.data.get("args"), dict) else event.data
        window = self.scenario.success.relapse_window_s
        at = min(event.offset_s, now)
        self.resolution = ending.Resolution(event.actor, event.id, at, max(now, at + window),
                                            str((args or {}).get("summary") or ""))
        self._resolution_opened = time.monotonic()
        self.record(Source.RUNNER, "drill.resolving", {
            "by": event.actor, "resolve_event": event.id, "at_s": round(at, 3), "relapse_window_s": window,
            "until_s": round(self.resolution.until_s, 3),
        })
        # the phase and what it waits for change in one write: a reader never sees one without the other
        self._marker.update(phase="resolving", resolving_until_s=round(self.resolution.until_s, 3))
        self._last_waiting = 0.0
        self._update_waiting(now, force=True)

    def _watch_resolution(self, now: float) -> str | None:
        """The relapse window: end at once on a relapse, else when the window is over."""
        r = self.resolution
        assert r is not None
        since = time.monotonic() - self._resolution_opened
        success = max(3.0, self.scenario.success.slo_holds_s / self.options.speed)
        if since >= success and self.monitor is not None:
            last, _ = self.window(success)
            r.saw(last)
            if last is not None and last < self.scenario.success.availability_min and r.slo_broken_at_s is None:
                r.slo_broken_at_s = now
                return self._end_resolution(now)
        if now >= r.until_s:
            return self._end_resolution(now)
        return None

    def _causes_present(self) -> tuple[list[tuple[str, str]], list[str]]:
        """(steps whose cause the scenario needs gone and is still there, fault steps not injected yet)."""
        steps = {s.id: s for s in self.scenario.faults}
        missing = [s.id for s in self.scenario.faults if s.id not in self.fault_ids]
        present = []
        active = engine.journal_for(self.stack).active()
        for step_id in self.scenario.success.must_be_gone(list(steps)):
            fault_id = self.fault_ids.get(step_id)
            if fault_id in active:
                try:
                    there = engine.cause_present(self.stack, active[fault_id])
                except Exception:  # cannot tell (the stack half down): count it as there
                    there = True
                if there:
                    present.append((step_id, steps[step_id].kind))
        return present, missing

    def _end_resolution(self, now: float) -> str:
        r = self.resolution
        assert r is not None
        since = max(1.0, time.monotonic() - self._resolution_opened)
        availability, _ = self.window(since) if self.monitor else (None, None)
        present, missing = self._causes_present()
        outcome, data = ending.verdict(r, present=present, missing=missing, availability=availability,
                                       slo_min=self.scenario.success.availability_min)
        self.record(Source.RUNNER, f"drill.{outcome}", data)
        return outcome

    def _update_waiting(self, now: float, force: bool = False) -> None:
        """Once a second, say in the marker what the drill is waiting for (the console shows it)."""
        if time.monotonic() - self._last_waiting < 1.0:
            return
        self._last_waiting = time.monotonic()
        if self.resolution is not None:
            self._present = [step for step, _ in self._causes_present()[0]]
        facilitator, team = ending.waiting(
            scripted=self.options.responder is not None, resolution=self.resolution,
            recovered_at_s=self._recovered_at, now_s=now, time_limit_s=self.scenario.time_limit_s,
            slo_min=self.scenario.success.availability_min, slo_holds_s=self.scenario.success.slo_holds_s,
            present=self._present)
        if force or facilitator != self._marker.get("waiting") or team != self._marker.get("team_waiting"):
            self._set_marker(waiting=facilitator, team_waiting=team)
