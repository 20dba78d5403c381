"""A people's drill on a real embedded stack in which the responder restarts the database from the
recorded shell (pg_ctl, typed through a real pty): the timeline holds one canonical restart, and the
score card's impact says what that restart cost, naming it. A quiet fault (1 ms of added latency)
keeps the machine free; --speed 10 makes the 30 drill seconds after the restart three real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab.core.acts import Act, act_of
from lab.core.scenario import StackNeeds
from lab.core.scoring import FIX_WINDOW_S
from lab.core.timeline import Source
from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline.store import TimelineStore
from quiet_drill import SCENARIO as QUIET
from recorded_shell import type_lines

pytestmark = pytest.mark.integration
SPEED = 10.0
SCENARIO = {**QUIET, "id": "shell-restart", "title": "A quiet drill with a restart typed in the shell"}


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path, dict[str, str]]]:
    root = tmp_path_factory.mktemp("gd-rst")
    path = root / "shell-restart.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    stack = LocalStack("rst", root, load_config(None, StackNeeds(**SCENARIO["stack"]).overrides()))
    stack.up()
    try:
        yield stack, path, {**os.environ, "GAMEDAY_ROOT": str(root)}
    finally:
        stack.down(purge=True)


def pg_ctl_line() -> str:
    """What a responder types to restart PostgreSQL: pg_ctl as the server's own account (the lab's,
    when it runs as root), its output in a file beside the data so the terminal stays quiet."""
    account = procs.service_user()
    restart = 'pg_ctl restart -D "$PGDATA" -m fast -w -l "$PGDATA/restart.log"'
    return f"su -s /bin/sh {account.pw_name} -c '{restart}'" if account else restart


def test_a_restart_typed_in_the_shell_is_one_restart_and_the_score_says_what_it_cost(quiet, tmp_path):
    stack, path, env = quiet
    drill = subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", str(path), "--name", "rst", "--speed",
                              f"{SPEED:g}", "--quiet"], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        marker = stack.run_dir / "drill.json"
        assert procs.wait_until(lambda: marker.exists() and "started_wall" in marker.read_text(), 60, 0.1)
        run_dir = Path(json.loads(marker.read_text())["run_dir"])
        store = TimelineStore(run_dir / "events.jsonl")
        assert procs.wait_until(lambda: any(e.kind == "fault.injected" for e in store.read()), 30, 0.1)
        noted = subprocess.run([sys.executable, "-m", "lab.cli", "note", "sessions pile up; restarting the db",
                                "--hypothesis", "db-connections-exhausted", "--name", "rst", "--actor", "dave"],
                               env=env, capture_output=True, text=True, timeout=60)
        assert noted.returncode == 0, noted.stderr
        time.sleep(3)  # probe samples from before the restart: the failure share it is measured against
        since = len(store.read())
        started = stack.sql("SELECT pg_postmaster_start_time()", dbname="postgres")
        shown = type_lines(env, "rst", "dave", tmp_path, pg_ctl_line())
        assert "server started" in shown, shown
        assert stack.sql("SELECT pg_postmaster_start_time()", dbname="postgres") != started
        time.sleep(FIX_WINDOW_S / SPEED + 2)  # the probe through the fix's window, and observer ticks after it
    finally:
        drill.terminate()
        out, _ = drill.communicate(timeout=60)
    assert drill.returncode == 0, out

    events = store.read()
    restarts = [e for e in events[since:] if (act := act_of(e)) is not None and act.action == "restart"]
    assert len(restarts) == 1, [(e.id, e.source.value, e.kind, e.data) for e in restarts]  # not observed again
    restart, = restarts
    assert (restart.source, restart.kind, restart.actor, restart.data["via"]) == (Source.TEAM, "action.restart", "dave", "shell")
    assert act_of(restart) == Act("restart", {"service": "db"}, "shell")
    assert restart.data["exit_code"] == 0 and "pg_ctl restart" in restart.data["evidence"]

    scored = subprocess.run([sys.executable, "-m", "lab.cli", "score", run_dir.name, "--json"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert scored.returncode == 0, scored.stderr
    impact = next(c for c in json.loads(scored.stdout)["card"]["components"] if c["key"] == "impact")
    cost = [item for item in impact["items"] if item["reason"].startswith("what the fix cost")]
    assert len(cost) == 1, impact["items"]
    assert cost[0]["evidence"] == [restart.id], cost[0]
    assert "1 restart(s) by the team" in cost[0]["reason"], cost[0]
