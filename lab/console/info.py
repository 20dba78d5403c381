"""Where a console says it serves (`<root>/console/<stack>/console.json`: pid, URL, tokens; mode
0600), stopping it from another process, and how its tokens are handed out (the banner, a token
file, the options of the commands that start one). Light: `gameday down` imports it without Flask."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import click

from lab.errors import UsageError
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


def banner(info: dict[str, Any], show_team_token: bool = False, token_file: Path | None = None,
           info_file: Path | None = None) -> list[str]:
    """What the terminal that started the console prints: its address, the facilitator's token (or
    where it was written), and the team token only when asked (that terminal may be on a shared screen)."""
    url = info["url"]
    lines = [f"console: {url}"]
    if token_file is None:
        lines.append(f"  facilitator token: {info['facilitator_token']}   ({url}login?token={info['facilitator_token']})")
    else:
        lines.append(f"  facilitator token: written to {token_file} (readable by you only)")
    if show_team_token:
        lines.append(f"  team token:        {info['team_token']}   ({url}login?token={info['team_token']})")
    else:
        where = f"it is in {info_file}; " if info_file is not None else ""
        lines.append(f"  team token:        not printed ({where}the facilitator page makes a new one to hand out)")
    return lines


def write_token_file(path: Path, token: str) -> None:
    """The facilitator's token, alone in a file only its owner can read (UsageError if it cannot be written)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)  # a file that was there already keeps no wider mode
            os.write(fd, (token + "\n").encode())
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"--token-file {path}: cannot write it ({exc.strerror})") from None


def token_options(fn: Any) -> Any:
    """--token-file and --show-team-token, for every command that starts a console."""
    fn = click.option("--show-team-token", is_flag=True,
                      help="Print the team token too (for a screen the team sees); by default it is not printed.")(fn)
    return click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write the facilitator's token to this file (readable by you only) instead of "
                             "printing it.")(fn)
