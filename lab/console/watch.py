"""What the console shows, read from the files a drill writes, incrementally and without ever
asking Arcade or its database (so a page costs the same while the site is on fire).

    <run dir>/events.jsonl ──tail──▶ RunWatch.events   (the timeline)
    <run dir>/sli.jsonl    ──tail──▶ RunWatch.samples  (per-second probe; chart, live score)
                                     RunWatch.last_tick (firing alerts, DB connections)

(file names and the SLI line parser: lab.timeline.rundir)
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.console.chart import ChartPoint
from lab.core.scoring import Sample
from lab.core.timeline import Event, Source
from lab.timeline import rundir

# What a team sees of the lab's own events: the drill's frame, how it ended, released hints and the
# answers of the teams it paged. Faults, the steady-state check and anything else the runner or the
# facilitator records stay hidden, and so does the lab's own "recovered" while it waits for the
# team to declare the incident resolved (that would tell them their fix worked before they know).
TEAM_SOURCES = {Source.TEAM, Source.MONITOR, Source.OBSERVER}
TEAM_KINDS = {"drill.started", "drill.recovered", "drill.time_limit", "drill.ended", "drill.halt", "hint.released",
              "escalation.answered", "drill.resolving", "drill.resolved", "drill.resolved_too_early"}


def visible_to_team(event: Event) -> bool:
    if event.kind == "drill.recovered" and event.data.get("awaiting"):
        return False
    return event.source in TEAM_SOURCES or event.kind in TEAM_KINDS


class Tail:
    """The complete lines appended to a file since the last call (a torn last line waits)."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self._partial = b""

    def read(self) -> list[bytes]:
        try:
            if os.stat(self.path).st_size <= self.offset:
                return []
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        self.offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        return [line for line in lines if line.strip()]


@dataclass(frozen=True)
class Tick:
    """The latest probe second of a run."""

    offset_s: float
    availability: float | None
    p95_ms: float | None
    firing: tuple[str, ...]
    db_used: int | None
    db_max: int | None
    db_by_state: dict[str, int]
    wall: float  # when the console read it


BEFORE_POINTS = 300  # probe seconds of "before" the chart keeps


class RunWatch:
    """One run directory, followed as it grows; safe to share between request threads."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.events: list[Event] = []
        self.samples: list[Sample] = []
        self.drill_points: list[ChartPoint] = []
        self._before: list[ChartPoint] = []  # the baseline before the clock started (lobby, steady state)
        self.last_tick: Tick | None = None
        self._events = Tail(run_dir / rundir.EVENTS)
        self._sli = Tail(run_dir / rundir.SLI)
        self._lock = threading.Lock()

    def refresh(self) -> RunWatch:
        """Read what was appended since the last call (a stat of each file when nothing was)."""
        with self._lock:
            for line in self._events.read():
                try:
                    self.events.append(Event.from_json(line))
                except (ValueError, TypeError, KeyError):
                    continue
            for line in self._sli.read():
                self._add_tick(line)
        return self

    def _add_tick(self, line: bytes) -> None:
        rec = rundir.parse_sli(line)
        if rec is None:
            return
        db = rec.db
        self.last_tick = Tick(rec.offset_s, rec.availability, rec.p95_ms, rec.firing, db.get("ordinary"),
                              db.get("max_connections"), dict(db.get("by_state") or {}), time.time())
        point = ChartPoint(rec.offset_s, rec.availability, rec.p95_ms)
        if rec.started:
            self.samples.append(rec.sample())
            self.drill_points.append(point)
        elif not self.drill_points:
            self._before = [*self._before[-(BEFORE_POINTS - 1):], point]

    @property
    def points(self) -> list[ChartPoint]:
        """The chart's seconds: the baseline before the clock started at negative drill time (its own
        clock's offsets moved so that its last second is just before t+0), then the drill."""
        before = self._before
        if not before:
            return list(self.drill_points)
        shift = before[-1].t + (1.0 if self.drill_points else 0.0)
        return [ChartPoint(p.t - shift, p.availability, p.p95_ms) for p in before] + self.drill_points

    # --- what the events say ---------------------------------------------------------------

    def first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    @property
    def started(self) -> dict[str, Any]:
        event = self.first("drill.started")
        return event.data if event else {}

    @property
    def outcome(self) -> str | None:
        event = self.first("drill.ended")
        return str(event.data.get("outcome")) if event else None

    @property
    def ending(self) -> str:
        """How a people's drill ended, in words ("" until it did, or when it ended otherwise)."""
        event = next((e for e in reversed(self.events) if e.kind in ("drill.resolved", "drill.resolved_too_early")),
                     None)
        return str(event.data.get("reason") or "") if event else ""

    def released_hints(self) -> set[str]:
        return {str(e.data.get("id")) for e in self.events if e.kind == "hint.released"}

    def after(self, event_id: int, team: bool) -> list[Event]:
        return [e for e in self.events if e.id > event_id and (not team or visible_to_team(e))]
