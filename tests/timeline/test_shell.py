"""The recorded shell, driven through a real pty: typed commands reach the drill's timeline in
order with their exit codes, and the ones the lab recognises become actions."""

from __future__ import annotations

import sys

import pexpect
import pytest

from lab.timeline.store import TimelineStore

pytestmark = pytest.mark.integration

PROMPT = r"\(gameday:act\) [^\r\n]*[#$] $"


def test_typed_commands_are_recorded_in_order_with_exit_codes(drill, tmp_path):
    _stack, run_dir, env = drill
    store = TimelineStore(run_dir / "events.jsonl")
    before = len(store.read())
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", "shell", "--name", "act", "--actor", "carol"],
                          env={**env, "HOME": str(tmp_path), "TERM": "dumb"}, encoding="utf-8", timeout=30,
                          dimensions=(40, 200))
    try:
        child.expect(PROMPT)
        child.sendline("echo hello-from-the-shell")
        child.expect("hello-from-the-shell")
        child.expect(PROMPT)
        child.sendline("false")
        child.expect(PROMPT)
        child.sendline('psql -Atc "select count(*) > 0 from pg_stat_activity"')
        child.expect(r"\bt\r?\n")  # psql reached the DB with the settings the shell was given
        child.expect(PROMPT)
        child.sendline('curl -s -o /dev/null -w "%{http_code}\\n" "$ARCADE_URL/healthz"')
        child.expect("200")
        child.expect(PROMPT)
        child.sendline("exit 3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 3
    events = [e for e in store.read()[before:] if e.actor == "carol"]
    assert [e.kind for e in events] == ["shell.opened", "shell.command", "shell.command", "action.inspect-db",
                                        "action.inspect-web", "shell.closed"]
    assert all(e.source.value == "team" for e in events)
    echo, false, psql, curl = events[1:5]
    assert echo.data["command"] == "echo hello-from-the-shell" and echo.data["exit_code"] == 0
    assert false.data["command"] == "false" and false.data["exit_code"] == 1 and not false.data["ok"]
    assert psql.data["action"] == "inspect-db" and psql.data["via"] == "shell" and psql.data["exit_code"] == 0
    assert curl.data["exit_code"] == 0
    assert all(e.data["duration_s"] >= 0 for e in events[1:5])
    assert [e.offset_s for e in events] == sorted(e.offset_s for e in events)
    assert events[-1].data["exit_code"] == 3


def test_no_drill_no_shell(tmp_path):
    result = pexpect.run(f"{sys.executable} -m lab.cli shell --name nothing", withexitstatus=True, timeout=30,
                         env={"GAMEDAY_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"}, encoding="utf-8")
    output, status = result
    assert status == 2
    assert output.strip() == ("Error: no drill is running on stack 'nothing'; start one with "
                              "`gameday drill SCENARIO --name nothing`")
