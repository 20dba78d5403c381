"""Run directories written as a drill writes them (events through TimelineStore, the SLI log, the
drill marker), for console tests that need a run in a given state without playing one."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

from lab.core.timeline import Source
from lab.timeline.store import TimelineStore

PROJECT = Path(__file__).resolve().parents[2]
SCENARIO = PROJECT / "scenarios" / "march-2023-db-overload.yaml"
ANSWER = "network team here: the network is clean, TCP connect 0.2 ms to every service"


def team_moves(people: tuple[str, ...]) -> list[tuple[float, Source, str, str, dict[str, Any]]]:
    """The runbook's path, played by `people` in turn."""
    moves = [("ack", {}), ("role", {"role": "IC", "name": people[0]}), ("action.inspect-db", {}),
             ("note", {"hypothesis": "db-connections-exhausted", "text": "leaked sessions"}),
             ("action.terminate-idle-connections", {"older_than_s": 2}),
             ("update", {"audience": "external", "text": "fixed"}), ("resolve", {"summary": "sessions cut"})]
    out = []
    for i, (kind, args) in enumerate(moves):
        data = {"action": kind.replace("action.", ""), "args": args, "ok": True, "result": {}}
        out.append((90.0 + 20 * i, Source.TEAM, kind, people[i % len(people)], data))
    return out


def write_run(root: Path, run_id: str, team: str, responder: str | None, people: tuple[str, ...],
              outcome: str | None) -> Path:
    """A run directory as a drill writes it: scenario.yaml, events.jsonl (TimelineStore), sli.jsonl."""
    run_dir = root / "runs" / run_id
    run_dir.mkdir(parents=True)
    (run_dir / "scenario.yaml").write_text(SCENARIO.read_text())
    events: list[tuple[float, Source, str, str, dict[str, Any]]] = [
        (0, Source.RUNNER, "drill.started", "lab", {"scenario": "march-2023-db-overload", "team": team, "speed": 1.0,
                                                    "responder": responder, "run_id": run_id, "time_limit_s": 9000}),
        (20, Source.RUNNER, "fault.injected", "lab", {"step": "leak", "fault_id": "leak-1", "kind": "connection_hog"}),
        (60, Source.MONITOR, "alert.firing", "monitor", {"alert": "SiteAvailabilityLow", "value": 0.0}),
        (100, Source.TEAM, "escalate", people[-1], {"action": "escalate", "args": {"team": "network"}, "ok": True}),
        (220, Source.FACILITATOR, "escalation.answered", "network team",
         {"team": "network", "asked_at_s": 100.0, "delay_s": 120.0, "text": ANSWER}),
        *team_moves(people),
    ]
    if outcome is not None:
        events.append((300, Source.RUNNER, "drill.ended", "lab", {"outcome": outcome}))
    store = TimelineStore(run_dir / "events.jsonl")
    for offset, source, kind, actor, data in sorted(events, key=lambda e: e[0]):
        store.append(source, kind, actor, data, offset_s=offset)
    with (run_dir / "sli.jsonl").open("w") as f:
        for t in range(0, 300, 2):
            ok = 0 if 50 <= t < 190 else 4
            f.write(json.dumps({"offset_s": float(t), "started": True, "probe": {"total": 4, "ok": ok, "p95_s": 0.05}}) + "\n")
    return run_dir


def marker(root: Path, stack: str, pid: int, run_dir: Path) -> Path:
    """`<stack run dir>/drill.json` as a running drill writes it."""
    path = root / stack / "drill.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"pid": pid, "run_id": run_dir.name, "run_dir": str(run_dir),
                                "started_wall": time.time() - 120, "speed": 1.0}))
    return path


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid
