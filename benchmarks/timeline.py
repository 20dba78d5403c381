"""Timeline figures: durable append rate (each event fsynced) and the time to read and render a
100,000-event timeline (goal <= 1 s). Prints figures; not a test.

    .venv/bin/python benchmarks/timeline.py [--appends 3000] [--events 100000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import tempfile
import time
from pathlib import Path

from lab.core.timeline import Event, Source
from lab.timeline import cli as timeline_cli
from lab.timeline.store import TimelineStore

KINDS = [("team", "action.inspect-db"), ("team", "note"), ("monitor", "alert.firing"), ("runner", "fault.injected"),
         ("observer", "db.restarted"), ("team", "ack")]


def synthetic(path: Path, n: int) -> None:
    """Write n realistic events in one go (no fsync per event: this is the read benchmark's input)."""
    rng = random.Random(1)
    with open(path, "w") as fh:
        for i in range(1, n + 1):
            source, kind = rng.choice(KINDS)
            data = {"action": "inspect-db", "args": {}, "result": {"connections_used": rng.randint(0, 40)}, "ok": True,
                    "duration_s": 0.05} if kind.startswith("action.") else {"text": "x" * 40, "alert": "SiteAvailabilityLow"}
            fh.write(Event(i, 1.7e9 + i, i * 0.1, Source(source), kind, "alice", data).to_json() + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = TimelineStore(Path(tmp) / "append.jsonl")
        started = time.perf_counter()
        for i in range(args.appends):
            store.append(Source.TEAM, "note", "bench", {"i": i})
        append_s = time.perf_counter() - started

        big = Path(tmp) / "big.jsonl"
        synthetic(big, args.events)
        started = time.perf_counter()
        events = TimelineStore(big).read()
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        io.StringIO().write("\n".join(timeline_cli.line(event, colour=True) for event in events))
        render_s = time.perf_counter() - started
        started = time.perf_counter()
        for event in events:
            json.loads(event.to_json())
        json_s = time.perf_counter() - started
    print(f"durable appends (flock + write + fsync each): {args.appends / append_s:8.0f} events/s "
          f"({append_s / args.appends * 1e3:.2f} ms each)")
    print(f"read {len(events):,} events:                  {read_s:8.2f} s")
    print(f"render them as coloured lines:                 {render_s:8.2f} s   (read + render {read_s + render_s:.2f} s; goal <= 1 s)")
    print(f"re-encode them as JSON (--json):               {json_s:8.2f} s")


if __name__ == "__main__":
    main()
