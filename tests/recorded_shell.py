"""Typing in `gameday shell` through a real pty, as a responder does (tests/timeline, tests/runner)."""

from __future__ import annotations

import sys
from pathlib import Path

import pexpect


def prompt(stack: str) -> str:
    """The recorded shell's prompt on `stack` (the hooks put `(gameday:<stack>)` in front of PS1)."""
    return rf"\(gameday:{stack}\) [^\r\n]*[#$] $"


def type_lines(env: dict[str, str], stack: str, actor: str, home: Path, *lines: str, timeout: float = 60) -> str:
    """Open the recorded shell on `stack` as `actor`, type each line, waiting for the prompt after
    it, then `exit`; what the terminal showed. The shell's exit status must be 0."""
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", "shell", "--name", stack, "--actor", actor],
                          env={**env, "HOME": str(home), "TERM": "dumb"}, encoding="utf-8", timeout=timeout,
                          dimensions=(40, 200))
    shown: list[str] = []
    try:
        child.expect(prompt(stack))
        for line in lines:
            child.sendline(line)
            child.expect(prompt(stack))
            shown.append(child.before or "")
        child.sendline("exit")
        child.expect(pexpect.EOF)
        shown.append(child.before or "")
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, "".join(shown)
    return "".join(shown)
