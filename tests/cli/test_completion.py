"""Shell completion through click's mechanism, exercised as a person would: bash in a pty, the
script from `gameday completion bash` eval'ed, <TAB> typed after partial words."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from lab.faults.journal import JOURNAL, FaultJournal

PROMPT = "READY> "


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o nosort -F _gameday_completion gameday"),
                                           ("zsh", "compdef _gameday_completion gameday"),
                                           ("fish", "complete --no-files --command gameday")])
def test_completion_prints_clicks_script_for_each_shell(shell, marker):
    done = subprocess.run([sys.executable, "-m", "lab.cli", "completion", shell], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 0, done.stderr
    assert marker in done.stdout and "_GAMEDAY_COMPLETE" in done.stdout


def test_an_unknown_shell_is_bad_input():
    done = subprocess.run([sys.executable, "-m", "lab.cli", "completion", "tcsh"], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2 and "'tcsh' is not one of 'bash', 'zsh', 'fish'" in done.stderr


@pytest.fixture(scope="module")
def bash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[pexpect.spawn]:
    """An interactive bash whose `gameday` is this checkout's, with the completion script loaded
    (one for the module: each test leaves its line empty)."""
    tmp_path = tmp_path_factory.mktemp("completion")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "gameday"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m lab.cli "$@"\n')
    wrapper.chmod(0o755)
    root = tmp_path / "gd"
    (root / "teamred").mkdir(parents=True)
    (root / "teamred" / "state.json").write_text("{}")  # what makes a stack known under the run root
    FaultJournal(root / "teamred" / JOURNAL).append("inject", "slow-link-1", "net_latency", {"latency_ms": 200})
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "GAMEDAY_ROOT": str(root),
           "HOME": str(tmp_path), "TERM": "dumb", "INPUTRC": "/dev/null", "PS1": PROMPT}
    child = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=30,
                          dimensions=(24, 200))
    try:
        child.expect_exact(PROMPT)
        child.sendline('eval "$(gameday completion bash)"')
        child.expect_exact(PROMPT)
        yield child
    finally:
        child.close(force=True)


def completed(child: pexpect.spawn, typed: str, expected: str) -> None:
    """Type `typed`, press <TAB>, and see the line become `expected`; then clear the line."""
    child.send(typed + "\t")
    child.expect_exact(expected)
    child.send("\x15")  # Ctrl-U: the line is empty again, nothing ran


@pytest.mark.parametrize("typed, expected", [
    ("gameday li", "gameday list "),  # a command
    ("gameday drill march-2023-db", "gameday drill march-2023-db-overload "),  # a scenario id
    ("gameday verify flagsmith-2024", "gameday verify flagsmith-2024-health-check-churn "),
    ("gameday inject connection_", "gameday inject connection_hog "),  # a fault kind
    ("gameday act terminate-i", "gameday act terminate-idle-connections "),  # an action
    ("gameday status --name team", "gameday status --name teamred "),  # a stack under the run root
    ("gameday timeline --fol", "gameday timeline --follow "),  # an option
    ("gameday revert --name teamred slow", "gameday revert --name teamred slow-link-1 "),  # an active fault
])
def test_tab_completes_in_bash(bash, typed, expected):
    completed(bash, typed, expected)
