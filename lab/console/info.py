"""Where a console says it serves (`<root>/console/<stack>/console.json`: pid, URL, tokens; mode
0600), and stopping it from another process. Light: `gameday down` imports it without Flask."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from lab.stack import procs


def info_path(root: Path, stack: str) -> Path:
    return root / "console" / stack / "console.json"


def stop_console(root: Path, stack: str, timeout: float = 70.0) -> int | None:
    """Stop the console serving `stack` under `root` (SIGTERM, then wait); its pid, or None if none served."""
    path = info_path(root, stack)
    try:
        pid = int(json.loads(path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not procs.alive(pid) or not _is_console(pid):
        path.unlink(missing_ok=True)  # gone (a crash left the file), or the pid now belongs to another program
        return None
    os.kill(pid, signal.SIGTERM)  # it stops a drill it started first (up to 60 s to clean up)
    if not procs.wait_until(lambda: not procs.alive(pid), timeout, 0.1):
        os.kill(pid, signal.SIGKILL)
        procs.wait_until(lambda: not procs.alive(pid), 5.0, 0.1)
        path.unlink(missing_ok=True)
    return pid


def _is_console(pid: int) -> bool:
    import psutil

    try:
        cmdline = psutil.Process(pid).cmdline()
    except psutil.Error:
        return False
    return "console" in cmdline and any(part.endswith("lab.cli") or part.endswith("gameday") for part in cmdline)
