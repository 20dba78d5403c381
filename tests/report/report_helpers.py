"""Run directories written the way a drill writes them (events.jsonl, sli.jsonl, scenario.yaml)."""

from __future__ import annotations

import json
from pathlib import Path

from lab.core.timeline import Event, Source

PROJECT = Path(__file__).resolve().parents[2]
SCENARIO = PROJECT / "scenarios" / "march-2023-db-overload.yaml"

# (drill s, source, kind, data): the runbook's path, with one red herring on the way
PATH = [
    (0, Source.RUNNER, "drill.started", {"scenario": "march-2023-db-overload", "team": "blue", "speed": 1.0,
                                         "responder": None, "time_limit_s": 9000}),
    (20, Source.RUNNER, "fault.injected", {"step": "surge", "fault_id": "surge-1", "kind": "traffic_surge", "params": {}}),
    (23, Source.RUNNER, "fault.injected", {"step": "leak", "fault_id": "leak-1", "kind": "connection_hog", "params": {}}),
    (60, Source.MONITOR, "alert.firing", {"alert": "SiteAvailabilityLow", "value": 0.0}),
    (90, Source.TEAM, "ack", {"action": "ack", "args": {}, "result": {}, "ok": True}),
    (100, Source.TEAM, "role", {"action": "role", "args": {"role": "IC", "name": "ann"}, "ok": True}),
    (110, Source.TEAM, "note", {"action": "note", "args": {"hypothesis": "network-failure", "text": "network <flaky>?"}}),
    (130, Source.TEAM, "update", {"action": "update", "args": {"audience": "internal", "text": "down; next update in 30 min"}}),
    (150, Source.TEAM, "action.inspect-db", {"action": "inspect-db", "args": {}, "result": {"connections_used": 38}, "ok": True}),
    (170, Source.TEAM, "note", {"action": "note", "args": {"hypothesis": "db-connections-exhausted", "text": "leaked sessions"}}),
    (190, Source.TEAM, "action.terminate-idle-connections",
     {"action": "terminate-idle-connections", "args": {"older_than_s": 2}, "result": {"terminated": 36}, "ok": True}),
    (230, Source.MONITOR, "alert.resolved", {"alert": "SiteAvailabilityLow", "value": 1.0}),
    (240, Source.TEAM, "note", {"action": "note", "args": {"text": "TODO: add PgBouncer & an alert on connections"}}),
    (280, Source.RUNNER, "drill.recovered", {"availability": 1.0}),
    (281, Source.RUNNER, "drill.ended", {"outcome": "recovered"}),
]


def write_run(run_dir: Path, path: list = PATH, down: tuple[float, float] = (50, 220), until: float = 290) -> Path:
    run_dir.mkdir(parents=True)
    (run_dir / "scenario.yaml").write_text(SCENARIO.read_text())
    with (run_dir / "events.jsonl").open("w") as f:
        for i, (t, source, kind, data) in enumerate(path, start=1):
            f.write(Event(i, 1.7e9 + t, float(t), source, kind, "blue" if source == Source.TEAM else "lab", data).to_json() + "\n")
    with (run_dir / "sli.jsonl").open("w") as f:
        for t in range(0, int(until), 2):
            ok = 0 if down[0] <= t < down[1] else 4
            f.write(json.dumps({"offset_s": float(t), "started": True, "t": 1.7e9 + t,
                                "probe": {"total": 4, "ok": ok, "availability": ok / 4, "p95_s": 0.05 if ok else 2.0},
                                "firing": []}) + "\n")
        f.write('{"offset_s": 300, "torn')
    return run_dir
