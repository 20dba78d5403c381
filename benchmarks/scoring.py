"""Scoring and report generation on large timelines: score() on 100,000 events (goal <= 1 s; team acts
through every channel: toolbox, shell commands the scorer classifies, changes seen by observers, notes
in free words), reading a run directory, and writing report.md + report.html. Prints figures; not a test.

    .venv/bin/python benchmarks/scoring.py [--events 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from lab.catalog import CATALOG
from lab.core.original import path_timeline
from lab.core.scoring import Sample, Timeline, score
from lab.core.timeline import Event, Source
from lab.report.cli import scored, write_reports
from lab.report.run import load_run
from lab.timeline import rundir

MOVES = [
    ("ack", {}), ("role", {"role": "IC", "name": "ann"}), ("update", {"audience": "internal", "text": "next update in 30 min"}),
    ("action.inspect-db", {}), ("action.check-network", {}), ("note", {"hypothesis": "network-failure", "text": "net?"}),
    ("note", {"hypothesis": "db-connections-exhausted", "text": "leak"}), ("action.scale-web", {"workers": 4}),
    ("action.terminate-idle-connections", {"older_than_s": 2}), ("escalate", {"team": "network"}),
    ("note", {"text": "TODO: pooler"}), ("shell.command", {"command": "psql -c 'select 1'"}), ("chat.message", {}),
    ("shell.command", {"command": "psql -c \"ALTER SYSTEM SET max_connections = 8000\""}),
    ("note", {"text": "36 sessions idle in transaction: a connection leak, not the network"}),
    ("action.restart", {"service": "web"}), ("action.set-db-setting", {"name": "work_mem", "value": "8MB"}),
]
OBSERVED = [("db.restarted", {"before": "a", "after": "b"}), ("web.scaled", {"before": 2, "after": 4})]


def big_timeline(n: int, seed: int = 7) -> Timeline:
    """n events (ids in time order) over a 2.5-hour drill: alerts, faults, team moves of every kind, unknown kinds; one sample a second."""
    rnd = random.Random(seed)
    events = [Event(1, 0.0, 0.0, Source.RUNNER, "drill.started", "lab", {}),
              Event(2, 20.0, 20.0, Source.RUNNER, "fault.injected", "lab", {"step": "surge"}),
              Event(3, 60.0, 60.0, Source.MONITOR, "alert.firing", "monitor", {"alert": "SiteAvailabilityLow"})]
    times = sorted(rnd.uniform(60, 9000) for _ in range(4, n + 1))  # appended in time order, as a drill writes
    for i, t in enumerate(times, start=4):
        kind, args = rnd.choice(MOVES)
        roll = rnd.random()
        source = Source.MONITOR if roll < 0.2 else Source.OBSERVER if roll < 0.23 else Source.TEAM
        if source == Source.MONITOR:
            kind, args = rnd.choice([("alert.firing", {"alert": "SiteLatencyHigh"}), ("alert.resolved", {"alert": "SiteLatencyHigh"})])
        if source == Source.OBSERVER:  # changes made by hand, seen by the observers
            kind, data = rnd.choice(OBSERVED)
            events.append(Event(i, t, t, source, kind, "observer", dict(data)))
            continue
        result = {"direction": "up"} if kind == "action.scale-web" else {}
        events.append(Event(i, t, t, source, kind, "x", {"action": kind.removeprefix("action."), "args": args,
                                                         "result": result, "ok": True}))
    samples = tuple(Sample(float(t), 4, 0 if 50 <= t < 4000 else 4, 0.05) for t in range(0, 9000))
    return Timeline(tuple(events), samples)


def timed(fn, repeat: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    """Median wall seconds of `repeat` runs, each after a full garbage collection (as timeit would)."""
    times, out = [], None
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def write_run(run_dir: Path, tl: Timeline) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / rundir.SCENARIO).write_text(CATALOG.resolve("march-2023-db-overload").read_text())
    (run_dir / rundir.EVENTS).write_text("".join(e.to_json() + "\n" for e in tl.events))
    (run_dir / rundir.SLI).write_text("".join(json.dumps({"offset_s": s.offset_s, "started": True, "probe": {
        "total": s.total, "ok": s.ok, "p95_s": s.p95_s}}) + "\n" for s in tl.samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario, _ = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))
    runbook = CATALOG.runbook(scenario.runbook)
    original = path_timeline(CATALOG.original(scenario))
    tl = big_timeline(args.events)
    print(f"timeline: {len(tl.events):,} events, {len(tl.samples):,} probe samples")
    secs, card = timed(lambda: score(tl, runbook, scenario), args.repeat)
    cpu = time.process_time()
    score(tl, runbook, scenario)
    cpu = time.process_time() - cpu
    print(f"score() on {len(tl.events):,} events: {secs:.3f} s median of {args.repeat} (goal <= 1 s), "
          f"{cpu:.3f} s CPU; total {card.total}")  # type: ignore[attr-defined]
    secs, _ = timed(lambda: score(original, runbook, scenario), args.repeat)
    print(f"score() on the original March path ({len(original.events)} events): {secs * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for label, timeline in (("original-sized run", original), (f"{len(tl.events):,}-event run", tl)):
            run_dir = Path(tmp) / label.replace(" ", "-").replace(",", "")
            write_run(run_dir, timeline)
            load_s, run = timed(lambda: load_run(run_dir), 1)
            score_s, (card, original) = timed(lambda: scored(run), 1)  # type: ignore[misc]
            report_s, _ = timed(lambda: write_reports(run, card, original), 1)
            again_s, _ = timed(lambda: write_reports(run, card, original), args.repeat)
            size = sum((run_dir / f).stat().st_size for f in (rundir.REPORT_MD, rundir.REPORT_HTML))
            print(f"{label}: load {load_s:.2f} s, score + original {score_s:.2f} s, reports {report_s:.2f} s first "
                  f"(matplotlib import included), {again_s:.2f} s warm; {size / 1e6:.1f} MB written")


if __name__ == "__main__":
    main()
