"""The embedded stack's fault watchdog process (lab.faults.watchdog): started after the services,
stopped first on every way down, its pid in `<stack run dir>/watchdog.pid`, its log beside theirs."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from lab.stack import procs
from lab.stack.files import write_atomic

PID_FILE = "watchdog.pid"


def pid_path(run_dir: Path) -> Path:
    return run_dir / PID_FILE


def running(run_dir: Path) -> int | None:
    """The pid of the stack's live watchdog, if one runs."""
    try:
        pid = int(pid_path(run_dir).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if procs.alive(pid) else None


def start(run_dir: Path, name: str, root: Path, log_path: Path) -> int:
    """Start the stack's watchdog (detached, like its services) unless one runs; return its pid."""
    pid = running(run_dir)
    if pid is not None:
        return pid
    pid_path(run_dir).unlink(missing_ok=True)  # a dead watchdog's pid must not make the new one stand down
    pid = procs.spawn([sys.executable, "-m", "lab.faults.watchdog", "--name", name, "--root", str(root.absolute())],
                      log_path, env=dict(os.environ), cwd=run_dir)
    write_atomic(pid_path(run_dir), str(pid))
    return pid


def stop(run_dir: Path) -> None:
    """Stop the stack's watchdog (idempotent)."""
    pid = running(run_dir)
    pid_path(run_dir).unlink(missing_ok=True)
    if pid is not None:
        procs.stop_tree(pid, signal.SIGTERM, grace=5)
