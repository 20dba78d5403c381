"""Record what the team does on the timeline of the drill running on a stack.

A drill announces itself in `<stack run dir>/drill.json` (pid, run dir, start time, speed); team
commands append to that run's events with source `team` (set here, never taken from the caller)
and the drill's clock (wall time since the start, times the speed).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.timeline import Event, Source
from lab.errors import UsageError
from lab.stack import procs
from lab.stack.base import Stack
from lab.timeline import rundir
from lab.timeline.store import TimelineStore


@dataclass(frozen=True)
class ActiveDrill:
    pid: int
    run_id: str
    run_dir: Path
    started_wall: float
    speed: float

    def offset(self) -> float:
        return round((time.time() - self.started_wall) * self.speed, 3)


def drill_marker(stack: Stack) -> dict[str, Any] | None:
    """What `<stack run dir>/drill.json` says, if a live drill wrote it (a stale one is removed)."""
    marker = stack.run_dir / rundir.DRILL_MARKER
    try:
        info = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if not procs.alive(int(info["pid"])):
        marker.unlink(missing_ok=True)
        return None
    return info  # type: ignore[no-any-return]


def active_drill(stack: Stack) -> ActiveDrill:
    """The drill running on `stack`, or UsageError saying how to start one."""
    info = drill_marker(stack)
    if not info:
        raise UsageError(
            f"no drill is running on stack '{stack.name}'; start one with `gameday drill SCENARIO --name {stack.name}`"
        )
    if info.get("phase") == "lobby":
        raise UsageError(f"the drill on stack '{stack.name}' is in its lobby: nothing counts until the facilitator "
                         f"starts the clock (the console's Start button, or `gameday start --name {stack.name}`)")
    if "started_wall" not in info:
        raise UsageError(f"the drill on stack '{stack.name}' is still checking the steady state; try again in a moment")
    return ActiveDrill(int(info["pid"]), info["run_id"], Path(info["run_dir"]), float(info["started_wall"]),
                       float(info["speed"]))


def record_team(drill: ActiveDrill, kind: str, actor: str, data: dict[str, Any]) -> Event:
    """Append a team event (fsynced before this returns)."""
    return TimelineStore(drill.run_dir / rundir.EVENTS).append(Source.TEAM, kind, actor, data, offset_s=drill.offset())


def write_marker(path: Path, info: dict[str, Any]) -> None:
    """Replace the drill marker in one step (the console and team commands read it at any moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(info))
    os.replace(tmp, path)


def request_start(stack: Stack, actor: str) -> dict[str, Any]:
    """Tell the drill waiting in its lobby on `stack` to start its clock; UsageError when none waits."""
    info = drill_marker(stack)
    if not info:
        raise UsageError(f"no drill is running on stack '{stack.name}'; open a lobby with "
                         f"`gameday drill SCENARIO --lobby --name {stack.name}`")
    if info.get("phase") != "lobby":
        raise UsageError(f"the drill on stack '{stack.name}' is not waiting in a lobby (it is {info.get('phase') or 'starting'})")
    write_marker(stack.run_dir / rundir.DRILL_GO, {"by": actor, "wall": time.time()})
    return info
