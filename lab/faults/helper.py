"""A fault's helper process, written once: the helper's side and the fault's side.

    fault (parent)                                      helper: python -m lab.faults.<module>
      Helper(ctx, "hog").start(module, args, ready) ─spawn─▶ args = parser(doc).parse_args()
        waits until ready(state) or the helper died          stop, state = begin(args, **first state)
                                                              while not stop.is_set(): ... state.set(...)
      Helper.state() ◀──── reads ──── <fault_id>.<name>.json ◀── written whole (tmp file + rename)
      Helper.pid(data): the journal's pid, or the state path found on a command line (a crash
                        between spawning and journaling)
      Helper.stop(data, signal) ───────── SIGTERM / SIGINT ──▶ stop flag set: the loops end

Every helper takes `--state FILE` and writes `worker_pid` into it. A lease (the helper stops by
itself once nobody renews the fault) belongs here only: `Helper.start` would pass `--lease FILE`,
`parser` accept it, and `StopFlag.is_set` also answer True once that file says it expired.
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

from lab.stack import procs

if TYPE_CHECKING:
    from lab.faults.base import FaultContext

TICK_S = 0.05  # how soon a sleeping helper notices it was told to stop

State = dict[str, Any]


# --- the helper's side ---------------------------------------------------------------------------


class StopFlag:
    """Set by SIGTERM or SIGINT; a helper's loops run until it is set (any thread may ask)."""

    def __init__(self) -> None:
        self._set = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, _sig: int, _frame: object) -> None:
        # only a plain assignment: a handler that took a lock could deadlock the code it interrupted
        self._set = True

    def is_set(self) -> bool:
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


def parser(doc: str | None) -> argparse.ArgumentParser:
    """A helper's argument parser (described by the first line of `doc`), with what every helper takes."""
    out = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    out.add_argument("--state", required=True, help="the JSON file this helper keeps its state in")
    return out


def begin(args: argparse.Namespace, **first: Any) -> tuple[StopFlag, StateFile]:
    """Install the stop flag, then write the first state (its `worker_pid` included)."""
    return StopFlag(), StateFile(args.state, **first)


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
        argv = [sys.executable, "-m", module, "--state", str(self.path), *args]
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
