"""The two tokens are told apart: the terminal that started the console gets the facilitator's
(or a file only its owner reads does), the team token is printed only when asked, and the
facilitator can replace the team token, which ends every team session of the old one."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest
import requests

from .app_helpers import csrf, logged_in, make_app
from lab.console.info import banner, info_path

INFO = {"url": "http://127.0.0.1:8300/", "facilitator_token": "FAC-token-123", "team_token": "TEAM-token-456"}


def test_the_banner_prints_the_team_token_only_when_asked(tmp_path):
    quiet = "\n".join(banner(INFO, info_file=tmp_path / "console.json"))
    assert "FAC-token-123" in quiet and "TEAM-token-456" not in quiet
    assert f"it is in {tmp_path / 'console.json'}" in quiet
    shown = "\n".join(banner(INFO, show_team_token=True))
    assert "TEAM-token-456" in shown and "login?token=TEAM-token-456" in shown
    to_file = "\n".join(banner(INFO, token_file=tmp_path / "fac.token"))
    assert "FAC-token-123" not in to_file and "TEAM-token-456" not in to_file
    assert f"written to {tmp_path / 'fac.token'}" in to_file


class ConsoleRun:
    """`gameday console` started as a person would, its printed lines collected until it is stopped."""

    def __init__(self, run_root, *args: str):
        self.root = run_root
        env = {**os.environ, "GAMEDAY_ROOT": str(run_root), "COLUMNS": "200"}
        self.proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "console", "--name", "tok", "--port", "0",
                                      *args], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            self.lines.append(line)
            if line.startswith("Ctrl-C to stop"):
                break
        assert self.lines and self.lines[-1].startswith("Ctrl-C"), "".join(self.lines)
        self.info = json.loads(info_path(run_root, "tok").read_text())

    @property
    def printed(self) -> str:
        return "".join(self.lines)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.communicate(timeout=30)


@pytest.fixture
def run_console(run_root):
    started: list[ConsoleRun] = []

    def start(*args: str) -> ConsoleRun:
        started.append(ConsoleRun(run_root, *args))
        return started[-1]

    yield start
    for run in started:
        if run.proc.poll() is None:
            run.stop()


def test_the_console_prints_the_facilitator_token_and_keeps_the_team_token_back(run_console, run_root):
    run = run_console()
    assert run.info["facilitator_token"] in run.printed and run.info["team_token"] not in run.printed
    assert "team token:        not printed" in run.printed
    assert stat.S_IMODE(info_path(run_root, "tok").stat().st_mode) == 0o600
    run.stop()

    shared = run_console("--show-team-token")
    assert shared.info["team_token"] in shared.printed


def test_a_token_file_gets_the_facilitator_token_owner_only_and_it_is_not_printed(run_console, tmp_path):
    path = tmp_path / "facilitator.token"
    path.write_text("old\n")
    path.chmod(0o644)  # a file that was there keeps no wider mode
    run = run_console("--token-file", str(path))
    assert path.read_text() == run.info["facilitator_token"] + "\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert run.info["facilitator_token"] not in run.printed and run.info["team_token"] not in run.printed
    assert f"facilitator token: written to {path}" in run.printed


def test_a_token_file_that_cannot_be_written_is_a_usage_error(gameday, tmp_path):
    result = gameday("console", "--name", "tok", "--port", "0", "--token-file", str(tmp_path / "no" / "such" / "f"),
                     timeout=60)
    assert result.returncode == 2, result
    assert result.stderr.startswith("Error: --token-file ") and "cannot write it" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rotating_the_team_token_ends_old_team_sessions(tmp_path):
    app = make_app(tmp_path)
    old = app.config["CONSOLE_TOKENS"]["team"]
    team, facilitator = logged_in(app, "team", "alice"), logged_in(app, "facilitator", "fran")
    assert team.post("/team/act", data={"csrf_token": team.csrf, "action": "note"}).status_code == 400  # in

    page = facilitator.get("/facilitator").text
    assert 'id="rotate-team-token"' in page and old not in page
    # a team member may not, and no CSRF token is refused; nothing changes either way
    assert team.post("/facilitator/team-token", data={"csrf_token": team.csrf}).status_code == 403
    assert facilitator.post("/facilitator/team-token", data={}).status_code == 400
    assert app.config["CONSOLE_TOKENS"]["team"] == old

    answer = facilitator.post("/facilitator/team-token", data={"csrf_token": facilitator.csrf})
    assert answer.status_code == 200
    new = app.config["CONSOLE_TOKENS"]["team"]
    assert new != old and f'id="team-token">{new}<' in answer.text
    assert new not in facilitator.get("/facilitator").text  # shown once

    # the old session is over: 401 on an action, the login page for a page
    assert team.post("/team/act", data={"csrf_token": team.csrf, "action": "ack"}).status_code == 401
    assert team.get("/team", headers={"Accept": "text/html"}).headers["Location"].startswith("/login")
    client = app.test_client()
    refused = client.post("/login", data={"csrf_token": csrf(client.get("/login").text), "token": old, "name": "x"})
    assert refused.status_code == 403
    again = logged_in(app, "team", "alice")  # with the new token
    assert again.get("/team").status_code == 200
    assert facilitator.get("/facilitator").status_code == 200  # the facilitator's session stays


def test_rotation_on_a_running_console_updates_console_json(run_console, run_root):
    run = run_console()
    url, old = run.info["url"], run.info["team_token"]
    http = requests.Session()
    answer = http.post(url + "login", data={"csrf_token": csrf(http.get(url + "login", timeout=10).text),
                                            "token": run.info["facilitator_token"], "name": "fran"}, timeout=10)
    assert answer.ok
    rotated = http.post(url + "facilitator/team-token", data={"csrf_token": csrf(answer.text)}, timeout=10)
    assert rotated.status_code == 200
    saved = json.loads(info_path(run_root, "tok").read_text())
    assert saved["team_token"] != old and f'id="team-token">{saved["team_token"]}<' in rotated.text
    assert saved["facilitator_token"] == run.info["facilitator_token"] and saved["pid"] == run.info["pid"]
    assert stat.S_IMODE(info_path(run_root, "tok").stat().st_mode) == 0o600
    for token, code in ((old, 403), (saved["team_token"], 200)):
        member = requests.Session()
        answer = member.post(url + "login", data={"csrf_token": csrf(member.get(url + "login", timeout=10).text),
                                                  "token": token, "name": "alice"}, timeout=10)
        assert answer.status_code == code
