"""`gameday drill ... --console`: the drill serves the console while it runs and prints its address
and the tokens it was asked to (here: the facilitator's to a file, the team's on screen); once the drill has ended (here: halted with SIGTERM, as `gameday halt` does) the
console keeps serving the debrief (History, the run's report, for both views) until
`gameday console --stop` stops it."""

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
from lab.console.info import info_path
from lab.faults import engine

pytestmark = pytest.mark.integration


def test_drill_with_console_serves_it_and_it_outlives_the_drill(march_stack, console_root, tmp_path):
    env = {**os.environ, "GAMEDAY_ROOT": str(console_root), "COLUMNS": "200"}
    token_file = tmp_path / "facilitator.token"
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", "march-2023-db-overload", "--console",
                             "--token-file", str(token_file), "--show-team-token",
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
    # the facilitator's token went to its file (owner only), the team's to the shared screen
    assert info["url"] in out and info["facilitator_token"] not in out and info["team_token"] in out
    assert token_file.read_text().strip() == info["facilitator_token"]
    assert token_file.stat().st_mode & 0o777 == 0o600 and str(token_file) in out
    assert re.search(r"halted after", out)
    assert "keeps serving the debrief" in out and "gameday console --stop" in out
    assert not engine.journal_for(march_stack).active()
    try:
        run_id = re.search(r"runs/([^/\s]+)/report", out).group(1)  # type: ignore[union-attr]
        facilitator = Client(info["url"], info["facilitator_token"], "fran")
        assert phase(facilitator) == "ended"
        assert run_id in facilitator.get("/history").text
        page = facilitator.get("/facilitator").text
        assert 'id="report-link"' in page and run_id in page
        assert facilitator.get(f"/runs/{run_id}/report").status_code == 200
        assert team.get(f"/runs/{run_id}/report").status_code == 200  # the team's own run, now over
        assert 'id="report-link"' in team.get("/team").text
    finally:
        env_stop = {**env}
        stopped = subprocess.run([sys.executable, "-m", "lab.cli", "console", "--stop", "--name", march_stack.name],
                                 env=env_stop, capture_output=True, text=True, timeout=90)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(info["url"] + "login", timeout=5)
    assert not info_path(console_root, march_stack.name).exists()
