"""`gameday halt --all`: one emergency stop for every drill on every stack under a run root.

    every stack under the root ──▶ signal its live drill (SIGTERM: it halts as with `gameday halt`)
                               ──▶ revert every active fault of its journal now (all stacks at once,
                                   not waiting for the drills; journaled as by "halt --all")
                               ──▶ the drill's timeline: drill.halt_all {pressed_by}
"""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.timeline import Source
from lab.faults import engine
from lab.faults.journal import ActiveFault
from lab.stack.base import Stack
from lab.stack.open import all_stacks, open_stack
from lab.timeline.store import TimelineStore

BY = "halt --all"
KIND = "drill.halt_all"  # on the drill's timeline (a drill.* kind: the scorer knows it and passes it by)


@dataclass
class StackStop:
    """What the emergency stop did on one stack."""

    name: str
    up: bool = False
    drill: dict[str, Any] | None = None  # the drill marker of the drill it signalled
    reverted: list[ActiveFault] = field(default_factory=list)
    error: str | None = None

    def line(self) -> str:
        if not self.up:
            return f"stack '{self.name}': not up; nothing to stop"
        drill = f"drill {self.drill['run_id']} (pid {self.drill['pid']}) signalled" if self.drill else "no drill running"
        faults = ", ".join(f"{a.kind} '{a.fault_id}'" for a in self.reverted)
        done = f"reverted {len(self.reverted)} fault(s)" + (f": {faults}" if faults else "")
        return f"stack '{self.name}': {drill}; {done}" + (f"; could not revert: {self.error}" if self.error else "")


def _signal(stack: Stack) -> dict[str, Any] | None:
    from lab.timeline.recorder import drill_marker

    info = drill_marker(stack)
    if info is None:
        return None
    try:
        os.kill(int(info["pid"]), signal.SIGTERM)
    except ProcessLookupError:
        return None
    return info


def _log(info: dict[str, Any], who: str, stacks: int) -> None:
    """The emergency stop on the drill's timeline: who pressed it."""
    from lab.faults.watchdog import offset_now

    run_dir = Path(str(info.get("run_dir") or ""))
    if not (run_dir / "events.jsonl").is_file():
        return
    store = TimelineStore(run_dir / "events.jsonl")
    store.append(Source.FACILITATOR, KIND, who, {"pressed_by": who, "stacks": stacks,
                                                       "text": f"emergency stop of every drill, pressed by {who}"},
                 offset_s=offset_now(store.read()))


def _revert(stop: StackStop, stack: Stack, who: str) -> None:
    try:
        stop.reverted = engine.revert_all(stack, by=BY, reason=f"emergency stop by {who}")
    except Exception as exc:  # FaultError names each fault that could not be undone
        stop.error = str(exc)


def halt_everything(root: Path, who: str) -> list[StackStop]:
    """Signal every live drill, then revert every active fault on every stack (stacks in parallel)."""
    names = all_stacks(root)
    stops = [StackStop(name) for name in names]
    stacks: list[Stack] = []
    for stop in stops:
        stack = open_stack(stop.name, root)
        stacks.append(stack)
        stop.up = stack.is_up()
        if stop.up:
            stop.drill = _signal(stack)  # first: a drill stops injecting while its faults are reverted
    live = [(stop, stack) for stop, stack in zip(stops, stacks) if stop.up]
    if live:
        with ThreadPoolExecutor(max_workers=min(8, len(live))) as pool:
            list(pool.map(lambda pair: _revert(pair[0], pair[1], who), live))
    for stop in stops:
        if stop.drill:
            try:
                _log(stop.drill, who, len(names))
            except OSError:
                pass  # the record is a courtesy; the faults are what matters
    return stops
