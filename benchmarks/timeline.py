"""Timeline figures: durable append rate (each event fsynced) and the time to read and render a
100,000-event timeline (goal <= 1 s). Prints figures; not a test.

    .venv/bin/python benchmarks/timeline.py [--appends 3000] [--events 100000]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
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
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = TimelineStore(Path(tmp) / "append.jsonl")
        started = time.perf_counter()
        for i in range(args.appends):
            store.append(Source.TEAM, "note", "bench", {"i": i})
        append_s = time.perf_counter() - started

        big = Path(tmp) / "big.jsonl"
        synthetic(big, args.events)
        reads, renders, jsons = [], [], []
        for _ in range(args.repeat):  # the machine is shared: report medians of wall and CPU time
            reads.append(timed(lambda: TimelineStore(big).read()))
            events = TimelineStore(big).read()
            renders.append(timed(lambda: io.StringIO().write(
                "\n".join(timeline_cli.line(event, colour=True) for event in events))))
            jsons.append(timed(lambda: io.StringIO().write("\n".join(event.to_json() for event in events))))
    read_w, read_c = medians(reads)
    render_w, render_c = medians(renders)
    json_w, json_c = medians(jsons)
    print(f"durable appends (flock + write + fsync each): {args.appends / append_s:8.0f} events/s "
          f"({append_s / args.appends * 1e3:.2f} ms each)")
    print(f"{len(events):,} events, median of {args.repeat} runs:      wall      CPU")
    print(f"  read                                       {read_w:6.2f} s  {read_c:6.2f} s")
    print(f"  render as coloured lines                   {render_w:6.2f} s  {render_c:6.2f} s")
    print(f"  read + render (goal <= 1 s)                {read_w + render_w:6.2f} s  {read_c + render_c:6.2f} s")
    print(f"  encode as JSON lines (--json)              {json_w:6.2f} s  {json_c:6.2f} s")


def timed(fn) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def medians(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


if __name__ == "__main__":
    main()
