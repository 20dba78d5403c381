"""A people's drill through the real CLI, as a team lives it: a lobby until the facilitator starts
the clock (`gameday start`, or `--start-after`), then the team's `resolve` and the relapse window
that ends it "resolved" or "resolved too early" with the evidence. A quiet fault (1 ms of added
latency through the real proxy) keeps the machine free; its cause is present until reverted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab.core.scenario import StackNeeds
from lab.faults import engine
from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline.store import TimelineStore
from quiet_drill import SCENARIO as QUIET

pytestmark = pytest.mark.integration
SPEED = 10.0
SCENARIO = {**QUIET, "id": "quiet-end", "title": "A quiet incident to end",
            "success": {"relapse_window_s": 30, "availability_min": 0.9}}


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalStack, Path, dict[str, str]]]:
    root = tmp_path_factory.mktemp("gd-end")
    path = root / "quiet-end.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    stack = LocalStack("end", root, load_config(None, StackNeeds(**SCENARIO["stack"]).overrides()))
    stack.up()
    try:
        yield stack, path, {**os.environ, "GAMEDAY_ROOT": str(root), "COLUMNS": "200"}
    finally:
        stack.down(purge=True)


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def marker(stack: LocalStack) -> dict[str, object]:
    try:
        return json.loads((stack.run_dir / "drill.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {}


def drill(path: Path, env: dict[str, str], *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", str(path), "--name", "end", "--speed",
                             f"{SPEED:g}", *extra], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    return out


def test_a_lobby_waits_for_the_facilitator_and_a_resolve_with_the_cause_left_is_too_early(quiet):
    stack, path, env = quiet
    proc = drill(path, env, "--lobby")
    try:
        assert procs.wait_until(lambda: marker(stack).get("phase") == "lobby", 60, 0.1), marker(stack)
        info = marker(stack)
        run_dir = Path(str(info["run_dir"]))
        assert "started_wall" not in info and "gameday start --name end" in str(info["waiting"])
        # the room reads the story; nothing counts yet, and nothing is injected
        early = cli(env, "ack", "--name", "end")
        assert early.returncode == 2 and "lobby" in early.stderr and len(early.stderr.strip().splitlines()) == 1
        assert not engine.journal_for(stack).active()
        assert procs.wait_until(lambda: len((run_dir / "sli.jsonl").read_text().splitlines()) >= 3, 20, 0.2)
        assert all(not json.loads(line)["started"] for line in (run_dir / "sli.jsonl").read_text().splitlines())

        started = cli(env, "start", "--name", "end")
        assert started.returncode == 0 and "the clock runs" in started.stdout, started.stderr
        assert marker(stack).get("phase") == "running"
        again = cli(env, "start", "--name", "end")
        assert again.returncode == 2 and "not waiting in a lobby" in again.stderr
        assert procs.wait_until(lambda: engine.journal_for(stack).active(), 20, 0.1)

        said = cli(env, "resolve", "--name", "end", "--summary", "added latency on the database link")
        assert said.returncode == 0, said.stderr
        assert procs.wait_until(lambda: marker(stack).get("phase") == "resolving", 10, 0.1), marker(stack)
        assert "fix holds" in str(marker(stack).get("team_waiting"))
        out = finish(proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    assert "resolved too early after" in out
    events = TimelineStore(run_dir / "events.jsonl").read()
    kinds = [e.kind for e in events]
    assert kinds.index("drill.lobby") < kinds.index("drill.started") < kinds.index("resolve") \
        < kinds.index("drill.resolving") < kinds.index("drill.resolved_too_early") < kinds.index("drill.ended")
    assert next(e for e in events if e.kind == "drill.started").data["started_by"]
    verdict = next(e for e in events if e.kind == "drill.resolved_too_early")
    assert verdict.data["causes_present"] == [{"step": "slow", "kind": "net_latency"}]
    assert "the cause of 'slow' (net_latency) is still there" in verdict.data["reason"]
    resolving = next(e for e in events if e.kind == "drill.resolving")
    assert verdict.offset_s >= resolving.data["until_s"] - 1  # the whole relapse window was watched
    assert next(e for e in events if e.kind == "drill.ended").data["outcome"] == "resolved_too_early"
    assert not engine.journal_for(stack).active() and not marker(stack)


def test_start_after_starts_by_itself_and_a_resolve_once_the_cause_is_gone_is_resolved(quiet):
    stack, path, env = quiet
    proc = drill(path, env, "--start-after", "2s", "--quiet")
    try:
        assert procs.wait_until(lambda: marker(stack).get("phase") == "running", 60, 0.1), marker(stack)
        run_dir = Path(str(marker(stack)["run_dir"]))
        assert procs.wait_until(lambda: engine.journal_for(stack).active(), 20, 0.1)
        fixed = cli(env, "revert", "--all", "--name", "end")
        assert fixed.returncode == 0, fixed.stderr
        said = cli(env, "resolve", "--name", "end", "--summary", "added latency on the database link")
        assert said.returncode == 0, said.stderr
        out = finish(proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=30)
    assert "resolved after" in out and "too early" not in out
    events = TimelineStore(run_dir / "events.jsonl").read()
    assert next(e for e in events if e.kind == "drill.started").data["started_by"] == "start-after"
    verdict = next(e for e in events if e.kind == "drill.resolved")
    assert "held" in verdict.data["reason"]
    assert next(e for e in events if e.kind == "drill.ended").data["outcome"] == "resolved"


def test_start_without_a_lobby_and_a_bad_duration_say_what_to_do(quiet):
    stack, path, env = quiet
    nothing = cli(env, "start", "--name", "end")
    assert nothing.returncode == 2 and "--lobby" in nothing.stderr
    bad = cli(env, "drill", str(path), "--name", "end", "--start-after", "soon")
    assert bad.returncode == 2 and "'soon' is not a duration" in bad.stderr
    assert not marker(stack)
