"""A hostile command typed in the real recorded shell (a literal ESC entered with Ctrl-V, HTML,
Markdown): recorded exactly as typed, shown by `gameday timeline` as visible text."""

from __future__ import annotations

import subprocess
import sys

import pexpect
import pytest

from lab.timeline.store import TimelineStore

pytestmark = pytest.mark.integration

PROMPT = r"\(gameday:act\) [^\r\n]*[#$] $"


def test_a_hostile_command_is_recorded_as_typed_and_shown_not_obeyed(drill, tmp_path):
    _stack, run_dir, env = drill
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", "shell", "--name", "act", "--actor", "dave"],
                          env={**env, "HOME": str(tmp_path), "TERM": "dumb"}, encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    try:
        child.expect(PROMPT)
        child.send("echo '<script>alert(1)</script> [x](javascript:y) | a | red")
        child.send("\x16\x1b")  # Ctrl-V, Esc: readline inserts a literal ESC into the line
        child.sendline("[31m'")
        child.expect(PROMPT)
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    [typed] = [e for e in TimelineStore(run_dir / "events.jsonl").read() if e.actor == "dave" and e.kind == "shell.command"]
    assert typed.data["command"] == "echo '<script>alert(1)</script> [x](javascript:y) | a | red\x1b[31m'"
    shown = subprocess.run([sys.executable, "-m", "lab.cli", "timeline", run_dir.name, "--kind", "shell.command"],
                           env=env, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    [line] = [line for line in shown.stdout.splitlines() if " dave " in line]
    assert "\x1b" not in shown.stdout
    assert line.endswith("$ echo '<script>alert(1)</script> [x](javascript:y) | a | red\\x1b[31m'  "
                         f"(exit 0, {typed.data['duration_s']} s)")
