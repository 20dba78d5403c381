"""`gameday drill ... --console`: the drill serves the console while it runs, prints its address
and tokens, and stops it when the command ends (here: halted with SIGTERM, as `gameday halt` does)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import psutil
import pytest
import requests

from .console_helpers import Client, phase, wait_for
from lab.console.server import info_path
from lab.faults import engine

pytestmark = pytest.mark.integration


def test_drill_with_console_serves_it_and_stops_it(march_stack, console_root):
    env = {**os.environ, "GAMEDAY_ROOT": str(console_root), "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", "march-2023-db-overload", "--console",
                             "--quiet", "--speed", "10", "--team", "cli", "--name", march_stack.name],
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    info = {}
    try:
        def announced():
            try:
                data = json.loads(info_path(console_root, march_stack.name).read_text())
            except (OSError, ValueError):
                return None
            try:  # the drill's own console (another console may watch the same stack)
                mine = psutil.Process(int(data["pid"])).ppid() == proc.pid
            except (psutil.Error, KeyError, ValueError):
                return None
            return data if mine and requests.get(data["url"] + "login", timeout=5).ok else None

        info = wait_for(announced, 60, "the drill's console to answer")
        team = Client(info["url"], info["team_token"], "carol")
        wait_for(lambda: phase(team) == "running", 90, "the drill to run, seen from its console")
        assert team.post("/team/act", {"action": "ack"}).status_code == 303
        assert team.post("/facilitator/halt", {}).status_code == 403
        proc.send_signal(signal.SIGTERM)  # what `gameday halt` sends
        out, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    # the drill's terminal gets the facilitator's token; the team token stays in console.json
    assert info["url"] in out and info["facilitator_token"] in out and info["team_token"] not in out
    assert re.search(r"halted after", out)
    with pytest.raises(requests.ConnectionError):
        requests.get(info["url"] + "login", timeout=5)
    assert not engine.journal_for(march_stack).active()
