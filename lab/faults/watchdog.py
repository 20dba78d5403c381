"""The fault watchdog: a small process beside an embedded stack's services that reverts every
fault whose lease ran out, so a drill that dies (kill -9, OOM, a closed laptop) or stalls past its
lease does not leave its harm behind.

    every 0.5 s: fault journal ─▶ active faults with an expired lease (lab.core.lease)
                   ─▶ engine.revert(by="watchdog", reason)     the same path as `gameday recover`
                   ─▶ the run's timeline: fault.reverted ..., drill.aborted {reason: "runner lost"}
                   ─▶ the run's copy of the journal (runs/<id>/faults.jsonl)
    ends when the stack goes down (its state file or its pid file is gone) or on SIGTERM

The embedded stack starts it after its services (`<stack run dir>/watchdog.pid`, logs/watchdog.log)
and stops it first on every way down: `python -m lab.faults.watchdog --name NAME --root ROOT`.
A compose stack runs it in the stack, as its `watchdog` service (`--in-stack`: no pid file; the
stack's `down` stops it), so it outlives the lab's process on the host.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

from lab.core import lease
from lab.core.timeline import Source
from lab.faults import engine
from lab.faults.journal import ActiveFault, FaultJournal
from lab.stack import procs
from lab.stack.local.watchdog import pid_path
from lab.stack.base import Stack
from lab.timeline import rundir
from lab.timeline.store import TimelineStore

INTERVAL_S = 0.5
BY = "watchdog"
RUNNER_LOST = "runner lost"
LEASE_EXPIRED = "lease expired"


def expired_faults(active: dict[str, ActiveFault], now: float) -> list[ActiveFault]:
    """The active faults whose lease ran out by `now`, newest first (the order recover reverts in)."""
    return [a for a in reversed(list(active.values())) if lease.expired(a.lease_until, now)]


def sweep(stack: Stack, now: float | None = None) -> list[ActiveFault]:
    """One pass: revert every fault whose lease ran out and record it on its run's timeline."""
    now = time.time() if now is None else now
    due = expired_faults(engine.journal_for(stack).active(), now)
    by_run: dict[str | None, list[ActiveFault]] = defaultdict(list)
    done: list[ActiveFault] = []
    for active in due:
        reason = RUNNER_LOST if active.run_id else LEASE_EXPIRED
        try:
            engine.revert(stack, active, by=BY, reason=reason)
        except Exception as exc:  # one fault that cannot be undone must not block the others
            print(f"{time.strftime('%H:%M:%S')} could not revert {active.fault_id}: {exc}", flush=True)
            continue
        print(f"{time.strftime('%H:%M:%S')} reverted {active.kind} '{active.fault_id}' ({reason})", flush=True)
        by_run[active.run_id].append(active)
        done.append(active)
    for run_id, faults in by_run.items():
        if run_id:
            record_abort(stack, run_id, faults)
    return done


def record_abort(stack: Stack, run_id: str, faults: list[ActiveFault]) -> None:
    """The run's timeline ends with drill.aborted (runner lost), and its copy of the journal is written."""
    run_dir = rundir.runs_dir(stack.root) / run_id
    if not rundir.is_run(run_dir):
        return
    store = TimelineStore(run_dir / rundir.EVENTS)
    events = store.read()
    offset = offset_now(events)
    runner = _runner(stack, run_id)
    for active in faults:
        store.append(Source.RUNNER, "fault.reverted", BY, {"fault_id": active.fault_id, "kind": active.kind,
                                                          "by": BY, "reason": RUNNER_LOST}, offset_s=offset)
    if not any(e.kind in ("drill.ended", "drill.aborted") for e in events):
        store.append(Source.RUNNER, "drill.aborted", BY, {
            "reason": RUNNER_LOST, "faults": [a.fault_id for a in faults], **runner,
            "detail": "the drill stopped renewing its faults' leases; the watchdog reverted them",
        }, offset_s=offset)
    records = [r for r in engine.journal_for(stack).records() if r.get("run_id") == run_id and r.get("op") != "renew"]
    copy = run_dir / rundir.FAULTS
    copy.unlink(missing_ok=True)
    FaultJournal(copy).extend(records)


def offset_now(events: list[Any]) -> float:
    """Drill seconds now, from the drill.started event (its wall time and speed); else the last offset."""
    for event in events:
        if event.kind == "drill.started":
            speed = float(event.data.get("speed") or 1.0)
            started = float(event.data.get("started_wall") or event.wall)
            return round(max(0.0, (time.time() - started) * speed), 3)
    return events[-1].offset_s if events else 0.0


def _runner(stack: Stack, run_id: str) -> dict[str, Any]:
    """What the stack's drill marker says of the run's process (and whether it still lives)."""
    from lab.timeline.recorder import drill_marker

    marker_path = stack.run_dir / rundir.DRILL_MARKER
    try:
        info = json.loads(marker_path.read_text())
    except (OSError, ValueError):
        return {}
    if info.get("run_id") != run_id:
        return {}
    pid = int(info["pid"])
    alive = procs.alive(pid)
    if not alive:
        drill_marker(stack)  # removes the stale marker
    return {"runner_pid": pid, "runner_alive": alive}


# --- the process (started and stopped by the stack: lab.stack.local.watchdog) -------------------


def serve(stack: Stack, interval: float = INTERVAL_S, in_stack: bool = False) -> None:
    """Sweep every `interval` seconds until the stack goes down or SIGTERM/SIGINT arrives (in the
    stack: until SIGTERM, which the stack's `down` sends)."""
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _s, _f: stopping.set())
    me = os.getpid()
    print(f"{time.strftime('%H:%M:%S')} watchdog of stack '{stack.name}' (pid {me}) watching "
          f"{engine.journal_for(stack).path}", flush=True)
    deadline = time.monotonic() + 10  # the starter writes the pid file just after spawning us
    while not stopping.is_set():
        if in_stack:
            _sweep_once(stack)
            stopping.wait(interval)
            continue
        try:
            named = int(pid_path(stack.run_dir).read_text().strip())
        except (OSError, ValueError):
            named = None
        if time.monotonic() < deadline and (named is None or (named != me and not procs.alive(named))):
            named = me  # no pid file yet, or a dead watchdog's: the starter is about to name us
        if named != me or not stack.is_up():
            break  # the stack went down (or another watchdog took over)
        _sweep_once(stack)
        stopping.wait(interval)
    print(f"{time.strftime('%H:%M:%S')} watchdog of stack '{stack.name}' ends", flush=True)


def _sweep_once(stack: Stack) -> None:
    try:
        sweep(stack)
    except Exception:  # the stack mid-change: try again on the next pass
        traceback.print_exc()
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.faults.watchdog", description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--root", required=True, type=Path)
    parser.add_argument("--interval", type=float, default=INTERVAL_S)
    parser.add_argument("--in-stack", metavar="KIND", help="run in the stack, as a KIND (compose) stack's service")
    args = parser.parse_args(argv)
    from lab.stack.open import open_stack

    serve(open_stack(args.name, args.root, args.in_stack), args.interval, in_stack=bool(args.in_stack))


if __name__ == "__main__":
    main()
