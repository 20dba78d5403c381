"""`gameday shell`: the responder's own shell, recorded.

    gameday shell ─┬─ bash --rcfile <hooks>   (the user's ~/.bashrc, then the lab's two hooks)
                   │     DEBUG trap: start time + `history 1` of each command line typed ──▶ FIFO (start)
                   │     PROMPT_COMMAND: exit code + end time ──▶ FIFO (one record per command)
                   └─ reader thread: FIFO ─▶ classify ─┬▶ start: the act it amounts to is in flight
                                                       └▶ end: team event on the drill's timeline (fsynced)

The shell gets the stack's connection settings (PGHOST, PGPORT, PGUSER, PGDATABASE for the
superuser's reserved slot, ARCADE_URL, TOXIPROXY_URL, ...), so `psql` and `curl $ARCADE_URL`
work at once. Commands the lab recognises are recorded as the toolbox action they amount to
(kind `action.<name>`, `via: shell`, with the toolbox's `args`, the typed `command` and the
`evidence` that decided it: the SQL statement or the command's words; `scope` for a setting made
for a session, role or database rather than the system); the rest as `shell.command`. While such
a command runs it is marked in flight (`mark`), like a toolbox action, so the observers take its
effect (the restart pg_ctl made, the setting ALTER SYSTEM wrote) for the act the team typed and do
not record it a second time. Recording needs bash (for its DEBUG trap and PROMPT_COMMAND); it is
the shell opened whatever $SHELL says.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lab.core.shell import classify, strip_history_number
from lab.errors import UsageError
from lab.stack.base import Stack
from lab.stack.pgbin import find_pg_bin

FIELD, RECORD = "\x1f", "\x1e"

# Loaded by `bash --rcfile`: the user's own setup first, then the hooks. History must keep
# every line (no ignoredups/ignorespace) for `history 1` to be the line just typed.
HOOKS = r"""
[ -f /etc/bash.bashrc ] && . /etc/bash.bashrc
[ -f "$HOME/.bashrc" ] && . "$HOME/.bashrc"
HISTCONTROL=
HISTIGNORE=
set -o history
__gameday_armed=
__gameday_start=
__gameday_preexec() {
  [ -n "$__gameday_armed" ] || return 0
  [ -n "${COMP_LINE:-}" ] && return 0
  [ "$BASH_COMMAND" = "__gameday_precmd" ] && return 0
  __gameday_armed=
  __gameday_start=$EPOCHREALTIME
  __gameday_line=$(HISTTIMEFORMAT= builtin history 1)
  printf '%s\x1f\x1f\x1f%s\x1e' "$__gameday_start" "$__gameday_line" >> "$GAMEDAY_SHELL_FIFO"
}
__gameday_precmd() {
  local rc=$?
  if [ -n "$__gameday_start" ]; then
    printf '%s\x1f%s\x1f%s\x1f%s\x1e' "$__gameday_start" "$EPOCHREALTIME" "$rc" "$__gameday_line" >> "$GAMEDAY_SHELL_FIFO"
    __gameday_start=
  fi
  __gameday_armed=1
}
trap '__gameday_preexec' DEBUG
PROMPT_COMMAND=__gameday_precmd
PS1="(gameday:$GAMEDAY_STACK) $PS1"
"""


def shell_env(stack: Stack, actor: str) -> dict[str, str]:
    """The stack's connection settings for the responder's tools (any kind of stack), who is typing,
    and the PostgreSQL client tools on PATH."""
    env = {**stack.shell_env(), "PGAPPNAME": f"gameday-shell-{actor}", "GAMEDAY_ACTOR": actor}
    bindir = str(find_pg_bin().bindir)
    env["PATH"] = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
    return env


def parse_records(buffer: str) -> tuple[list[dict[str, Any]], str]:
    """Complete records from what the FIFO gave so far, and the unfinished rest. A command that
    has only started (no end time, no exit code yet) is `{"command", "started_at", "start": True}`."""
    *complete, rest = buffer.split(RECORD)
    records: list[dict[str, Any]] = []
    for raw in complete:
        parts = raw.split(FIELD, 3)
        if len(parts) != 4:
            continue
        start, end, code, line = parts
        if end == "" and code == "":  # the DEBUG trap's: the command starts now
            command = strip_history_number(line)
            try:
                started = float(start)
            except ValueError:
                continue
            if command.strip():
                records.append({"command": command, "started_at": started, "start": True})
            continue
        try:
            started, ended, exit_code = float(start), float(end), int(code)
        except ValueError:
            continue
        command = strip_history_number(line)
        if command.strip():
            records.append({"command": command, "started_at": started, "exit_code": exit_code,
                            "duration_s": round(max(0.0, ended - started), 3)})
    return records, rest


def event_for(record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(kind, data) of the timeline event for one typed command."""
    found = classify(record["command"])
    data = {**record, "via": "shell", "ok": record["exit_code"] == 0}
    if found is None:
        return "shell.command", data
    scope = {"scope": found.scope} if found.scope else {}
    return f"action.{found.action}", {**data, "action": found.action, "args": found.args, **scope,
                                      "evidence": found.evidence}


Mark = Callable[[str, dict[str, Any]], Callable[[], None]]  # (act, its args) -> what ends the mark


class RecordedShell:
    """Runs bash with the hooks; `record(kind, data)` is called for each command, in order, and
    `mark(action, args)` when a command the lab recognises starts (what it returns, once it ended)."""

    def __init__(self, env: dict[str, str], record: Callable[[str, dict[str, Any]], None], cwd: Path | None = None,
                 mark: Mark | None = None):
        self.env = env
        self.record = record
        self.cwd = cwd
        self.mark = mark
        self._unmark: list[Callable[[], None]] = []

    def run(self, extra_args: list[str] | None = None) -> int:
        bash = shutil.which("bash")
        if bash is None:
            raise UsageError("gameday shell needs bash on PATH")
        with tempfile.TemporaryDirectory(prefix="gameday-shell-") as tmp:
            fifo = Path(tmp) / "commands"
            os.mkfifo(fifo, 0o600)
            rcfile = Path(tmp) / "rc.bash"
            rcfile.write_text(HOOKS)
            # Read-write: the reader never sees EOF between commands and a writer never blocks.
            fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
            stop_r, stop_w = os.pipe()
            reader = threading.Thread(target=self._read, args=(fd, stop_r), name="shell-recorder", daemon=True)
            reader.start()
            try:
                env = {**os.environ, **self.env, "GAMEDAY_SHELL_FIFO": str(fifo)}
                proc = subprocess.run([bash, "--rcfile", str(rcfile), "-i", *(extra_args or [])], env=env,
                                      cwd=self.cwd, check=False)
                return proc.returncode
            finally:
                os.write(stop_w, b"x")
                reader.join(10)
                os.close(fd)
                os.close(stop_r)
                os.close(stop_w)
                self._end_marks()  # a command cut off with the shell

    def _read(self, fd: int, stop: int) -> None:
        import select

        buffer = b""
        done = False
        while True:
            ready, _, _ = select.select([fd, stop], [], [], None if not done else 0)
            if fd in ready:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    chunk = b""
                if chunk:
                    buffer += chunk
                    records, rest = parse_records(buffer.decode("utf-8", "replace"))
                    buffer = rest.encode()
                    for record in records:
                        if record.get("start"):
                            self._started(record["command"])
                            continue
                        kind, data = event_for(record)
                        self.record(kind, data)
                        self._end_marks()  # after the event: it explains the change from now on
                    continue
            if done:
                return
            if stop in ready:
                done = True  # drain whatever the last command wrote, then stop

    def _started(self, command: str) -> None:
        if self.mark is None:
            return
        found = classify(command)
        if found is None:
            return
        try:
            self._unmark.append(self.mark(found.action, dict(found.args)))
        except Exception:  # an unmarked command is still recorded when it ends
            pass

    def _end_marks(self) -> None:
        while self._unmark:
            try:
                self._unmark.pop()()
            except Exception:
                pass
