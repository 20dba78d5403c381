"""A fault's helper process, written once: the helper's side and the fault's side.

    fault (parent)                                      helper: python -m lab.faults.<module>
      Helper(ctx, "hog").start(module, args, ready) ─spawn─▶ args = parser(doc).parse_args()
        waits until ready(state) or the helper died          stop, state = begin(args, **first state)
                                                              while not stop.is_set(): ... state.set(...)
      Helper.state() ◀──── reads ──── <fault_id>.<name>.json ◀── written whole (tmp file + rename)
      Helper.pid(data): the journal's pid, or the state path found on a command line (a crash
                        between spawning and journaling)
      Helper.stop(data, signal) ───────── SIGTERM / SIGINT ──▶ stop flag set: the loops end

Every helper takes `--state FILE` and writes `worker_pid` into it. `Helper.start` also passes
`--journal FILE --fault-id ID`: the helper's stop flag reads the fault journal (at most every
LEASE_CHECK_S) and is set once the fault's lease ran out or the journal says it was reverted, so a
helper stops by itself when nobody renews its fault, even with the runner and the watchdog gone.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil

from lab.faults.journal import JOURNAL
from lab.stack import procs

if TYPE_CHECKING:
    from lab.faults.base import FaultContext

TICK_S = 0.05  # how soon a sleeping helper notices it was told to stop
LEASE_CHECK_S = 0.5  # how often a helper reads its fault's lease from the journal

State = dict[str, Any]


# --- the helper's side ---------------------------------------------------------------------------


class StopFlag:
    """Set by SIGTERM or SIGINT, or once the fault's lease ran out or it was reverted (read from
    the journal, when given); a helper's loops run until it is set (any thread may ask)."""

    def __init__(self, journal: str | None = None, fault_id: str | None = None) -> None:
        self._set = False
        self._journal = journal if fault_id else None
        self._fault_id = fault_id or ""
        self._checked = 0.0
        self.why: str | None = None
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, _sig: int, _frame: object) -> None:
        # only a plain assignment: a handler that took a lock could deadlock the code it interrupted
        self._set = True

    def is_set(self) -> bool:
        if not self._set and self._journal and time.monotonic() - self._checked >= LEASE_CHECK_S:
            self._checked = time.monotonic()
            self.why = lease_gone(Path(self._journal), self._fault_id, time.time())
            if self.why:
                print(f"{time.strftime('%H:%M:%S')} {self._fault_id}: stopping by itself: {self.why}", flush=True)
                self._set = True
        return self._set

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, cut short once the flag is set; True if it is set."""
        deadline = time.monotonic() + seconds
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, TICK_S))
        return True


class StateFile:
    """A helper's state as one JSON object, replaced whole on every change (from any thread)."""

    def __init__(self, path: str, **first: Any) -> None:
        self.path = path
        self.data: State = {"worker_pid": os.getpid(), **first}
        self._lock = threading.Lock()
        self._write()

    def set(self, **changes: Any) -> None:
        with self._lock:
            self.data.update(changes)
            self._write()

    def _write(self) -> None:
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as fh:
            json.dump(self.data, fh)
        os.replace(tmp, self.path)


def lease_gone(journal: Path, fault_id: str, now: float) -> str | None:
    """Why the helper of `fault_id` should stop by itself (its lease ran out, it was reverted), or
    None: it is active with a live lease or none, or the journal does not know it (yet)."""
    from lab.core.lease import expired
    from lab.faults.journal import FaultJournal

    log = FaultJournal(journal)
    active = log.active().get(fault_id)
    if active is not None:
        return "its lease ran out" if expired(active.lease_until, now) else None
    if fault_id in log.used_ids():
        return "the journal says it was reverted"
    return None


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A helper's argument parser (described by the first line of `doc`), with what every helper takes."""
    out = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    out.add_argument("--state", required=True, help="the JSON file this helper keeps its state in")
    out.add_argument("--journal", help="the fault journal: stop by itself once the fault's lease runs out")
    out.add_argument("--fault-id", help="this helper's fault in --journal")
    return out


def begin(args: argparse.Namespace, **first: Any) -> tuple[StopFlag, StateFile]:
    """Install the stop flag, then write the first state (its `worker_pid` included)."""
    return StopFlag(args.journal, args.fault_id), StateFile(args.state, **first)


# --- the fault's side ----------------------------------------------------------------------------


def read_state(path: Path | str) -> State:
    """A helper's last state; {} before its first write or when unreadable."""
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class Helper:
    """One fault's helper process as the fault sees it: `name` tells its state file apart."""

    def __init__(self, ctx: FaultContext, name: str) -> None:
        self.ctx = ctx
        self.path = ctx.state_dir / f"{ctx.fault_id}.{name}.json"

    def state(self) -> State:
        return read_state(self.path)

    def start(self, module: str, *args: str, ready: Callable[[State], bool], timeout: float = 10.0) -> dict[str, Any]:
        """Spawn `python -m module --state FILE args...` detached (its log: logs/fault-<id>.log), wait
        until `ready(state)` or it died (at most `timeout` s); the data to journal: {"pid": ...}."""
        stack = self.ctx.stack
        argv = [sys.executable, "-m", module, "--state", str(self.path), "--journal",
                str(stack.run_dir / JOURNAL), "--fault-id", self.ctx.fault_id, *args]
        pid = procs.spawn(argv, stack.run_dir / "logs" / f"fault-{self.ctx.fault_id}.log", cwd=stack.run_dir)
        procs.wait_until(lambda: ready(self.state()) or not procs.alive(pid), timeout, 0.05)
        return {"pid": pid}

    def pid(self, data: dict[str, Any]) -> int | None:
        """Its pid: from the journal's data, or (a crash between spawning it and journaling) found by
        its state file on a command line."""
        if data.get("pid"):
            return int(data["pid"])
        marker = str(self.path)
        for proc in psutil.process_iter(["cmdline"]):
            if marker in (proc.info["cmdline"] or []):
                return int(proc.pid)
        return None

    def alive(self, data: dict[str, Any]) -> bool:
        return procs.alive(self.pid(data))

    def stop(self, data: dict[str, Any], sig: int = signal.SIGTERM, grace: float = 3.0) -> None:
        """Send `sig`, wait up to `grace` s, then SIGKILL whatever of its process tree is left."""
        pid = self.pid(data)
        if pid:
            procs.stop_tree(pid, sig, grace=grace)
