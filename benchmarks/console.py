"""The drill console's responsiveness while the March surge overloads Arcade (goal: p99 < 200 ms).

Prints figures; not a test. On a stack of its own under a temporary run root:

    quiet      page latency with no drill running (the baseline on this machine, now)
    surge      the same pages while the March surge and leak have Arcade down, with four event
               streams held open (four browsers in the room); p50 / p99 / max per page
    stream     time from opening the event stream to its first status tick (p50 / p99)
    delivery   a team note posted through the console until another session's stream shows it

    .venv/bin/python benchmarks/console.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "console"))

from console_helpers import Client, ensure_halted, start_drill, wait_for  # noqa: E402

from lab.catalog import CATALOG  # noqa: E402
from lab.console.server import ConsoleProcess  # noqa: E402
from lab.stack.config import load_config  # noqa: E402
from lab.stack.local import LocalStack  # noqa: E402
from lab.timeline import rundir  # noqa: E402
from lab.timeline.store import TimelineStore  # noqa: E402

PAGES = ("/team", "/status", "/chart.svg", "/history", "/facilitator", "/facilitator/score")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def measure_pages(client: Client, seconds: float) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {p: [] for p in PAGES}
    stop = time.monotonic() + seconds
    i = 0
    while time.monotonic() < stop:
        path = PAGES[i % len(PAGES)]
        started = time.monotonic()
        answer = client.get(path)
        assert answer.status_code == 200, (path, answer.status_code)
        out[path].append(time.monotonic() - started)
        i += 1
        time.sleep(0.02)
    return out


def hold_stream(client: Client, run: str, stop: threading.Event, seen: dict[str, float]) -> None:
    with client.http.get(client.url(f"/stream?run={run}&after=0"), stream=True, timeout=30) as resp:
        for line in resp.iter_lines(decode_unicode=True):
            if line.startswith("data: ") and '"html"' in line:
                for marker in list(seen):
                    if marker in line and seen[marker] == 0:
                        seen[marker] = time.monotonic()
            if stop.is_set():
                return


def first_tick(client: Client, run: str) -> float:
    started = time.monotonic()
    with client.http.get(client.url(f"/stream?run={run}&after=0"), stream=True, timeout=10) as resp:
        for line in resp.iter_lines(decode_unicode=True):
            if line == "event: tick":
                return time.monotonic() - started
    raise RuntimeError("no tick")


def report(label: str, figures: dict[str, list[float]]) -> list[float]:
    every = [v for values in figures.values() for v in values]
    print(f"  {label:<7} all pages: n={len(every)} p50 {pct(every, 0.5):.0f} ms  p99 {pct(every, 0.99):.0f} ms  "
          f"max {max(every) * 1000:.0f} ms")
    for path, values in figures.items():
        print(f"          {path:<20} p50 {pct(values, 0.5):4.0f} ms  p99 {pct(values, 0.99):4.0f} ms  (n={len(values)})")
    return every


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    scenario, _ = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))
    with tempfile.TemporaryDirectory(prefix="gd-console-bench-") as tmp:
        root = Path(tmp)
        stack = LocalStack("bench", root, load_config(None, scenario.stack.overrides()))
        stack.up()
        try:
            with ConsoleProcess(stack.name, root) as console:
                info = console.info
                fac = Client(info["url"], info["facilitator_token"], "fran")
                team = Client(info["url"], info["team_token"], "bob")
                print(f"console {info['url']} on stack {stack.name} (March 2023 settings)")
                quiet = measure_pages(fac, min(8.0, args.seconds))
                run_dir = start_drill(fac, stack, "bench", speed=10)
                wait_for(lambda: any(e.kind == "alert.firing" for e in TimelineStore(run_dir / rundir.EVENTS).read()),
                         90, "Arcade down")
                stop = threading.Event()
                seen: dict[str, float] = {}
                watchers = [Client(info["url"], info["team_token"], f"viewer{i}") for i in range(4)]
                threads = [threading.Thread(target=hold_stream, args=(w, run_dir.name, stop, seen), daemon=True)
                           for w in watchers]
                for t in threads:
                    t.start()
                surge = measure_pages(fac, args.seconds)
                ticks = [first_tick(team, run_dir.name) for _ in range(20)]
                delivery = []
                for i in range(5):
                    marker = f"bench-note-{i}-{time.time_ns()}"
                    seen[marker] = 0.0
                    posted = time.monotonic()
                    answer = team.post("/team/act", {"action": "note", "arg_text": marker})
                    assert answer.status_code == 303, answer.text
                    wait_for(lambda m=marker: seen[m] > 0, 10, "the note on the stream")
                    delivery.append(seen[marker] - posted)
                avail = rundir.read_sli(run_dir, started_only=False)[-int(args.seconds):]
                ok = sum(r.ok for r in avail)
                total = sum(r.total for r in avail)
                stop.set()
                ensure_halted(fac, stack)
        finally:
            stack.down(purge=True)
    print("results (goal: p99 < 200 ms for pages and the event stream while Arcade is down)")
    q = report("quiet", quiet)
    s = report("surge", surge)
    print(f"  Arcade availability meanwhile (the drill's probe): {ok}/{total} = {ok / max(1, total):.0%}")
    print(f"  stream: open -> first tick p50 {pct(ticks, 0.5):.0f} ms  p99 {pct(ticks, 0.99):.0f} ms")
    print(f"  delivery: note posted -> seen on another session's stream: median {statistics.median(delivery) * 1000:.0f} ms"
          f"  max {max(delivery) * 1000:.0f} ms (includes running the action and the fsync)")
    print(f"  ratio surge/quiet p99: {pct(s, 0.99) / max(1e-9, pct(q, 0.99)):.2f}")


if __name__ == "__main__":
    main()
