"""A quiet drill running on a real embedded stack, for tests that act in one, watch it or type
in its recorded shell (tests/actions, tests/timeline: each package runs its own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from lab.stack import procs
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline.store import TimelineStore

SCENARIO = {
    "id": "act-drill", "title": "A quiet drill to act in", "difficulty": "easy", "story": {"told": "test"},
    "runbook": "db-connection-exhaustion",
    "stack": {"max_connections": 40, "access_mode": "pool", "workers": 2, "threads": 8, "proxy": True},
    "traffic": {"baseline_rps": 10},
    "steady_state": {"window_s": 3},
    "faults": [{"id": "slow", "kind": "net_latency", "params": {"latency_ms": 1}}],
    "time_limit_s": 3600,
    "autopilot": [{"action": "note", "args": {"text": "unused"}, "at_s": 3600}],
}


def running_drill(tmp_path_factory: Any) -> Iterator[tuple[LocalStack, Path, dict[str, str]]]:
    """Start the stack and `gameday drill` on it; stop both when the caller is done."""
    root = tmp_path_factory.mktemp("gd")
    path = root / "act.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    from lab.core.scenario import StackNeeds

    stack = LocalStack("act", root, load_config(None, StackNeeds(**SCENARIO["stack"]).overrides()))
    stack.up()
    env = {**os.environ, "GAMEDAY_ROOT": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "drill", str(path), "--quiet", "--name", "act"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    marker = stack.run_dir / "drill.json"
    assert procs.wait_until(lambda: marker.exists() and "started_wall" in marker.read_text(), 60, 0.1)
    run_dir = Path(json.loads(marker.read_text())["run_dir"])
    assert procs.wait_until(lambda: any(e.kind == "fault.injected" for e in TimelineStore(run_dir / "events.jsonl").read()), 30)
    yield stack, run_dir, env
    proc.terminate()
    proc.wait(timeout=20)
    stack.down(purge=True)


