"""How many teams one machine holds: K teams play the March replay at once (`gameday event run`,
the autopilot responding, embedded stacks, 900 drill s at most), for K = 1, 2, 3, 4, ...; per K, whether every team's
stack met its steady-state SLO before the faults (a drill refuses to start when it does not), how
every drill ended, and the lab's CPU and memory per team stack while they ran. Prints figures; not
a test.

    .venv/bin/python benchmarks/capacity.py [--teams 1,2,4] [--speed 10] [--scenario march-2023-db-overload]

The CPU and memory (proportional set size: shared pages split among the processes sharing them)
are those of every process the lab started for the event (stacks, drills, helpers), sampled every
half second: the per-stack figures `gameday event` checks an event
against (STACK_CPU, STACK_MEMORY_MB in lab/runner/event.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import yaml

HERE = Path(__file__).resolve().parent.parent


def lab_processes(root: Path, me: int) -> list[psutil.Process]:
    """The event's process and every process below it (stacks are detached: found by their root)."""
    out = []
    for proc in psutil.process_iter(["cmdline", "pid"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] == me or str(root) in cmd:
            out.append(proc)
    for parent in [psutil.Process(me), *out] if psutil.pid_exists(me) else out:
        try:  # PostgreSQL's backends, gunicorn's workers: below a process that names the root
            out += parent.children(recursive=True)
        except psutil.NoSuchProcess:
            pass
    return list({p.pid: p for p in out}.values())


def _running(root: Path, k: int) -> bool:
    try:
        return json.loads((root / "events" / f"cap{k}" / "event.json").read_text())["status"] == "running"
    except (OSError, ValueError, KeyError):
        return False


def one(k: int, scenario: str, speed: float, tmp: Path) -> dict[str, object]:
    root = tmp / f"k{k}"
    plan = {"event": f"cap{k}", "scenario": scenario, "speed": speed, "seed": 7, "time_limit_s": 900,
            "teams": [{"name": f"t{i}", "responder": "autopilot"} for i in range(k)]}
    path = tmp / f"k{k}.yaml"
    path.write_text(yaml.safe_dump(plan))
    env = {**os.environ, "GAMEDAY_ROOT": str(root), "PYTHONPATH": str(HERE)}
    if k == 1:  # an event has two teams at least: one team is one drill on its own stack
        argv = ["drill", scenario, "--autopilot", "--quiet", "--speed", str(speed), "--name", "cap1-t0", "--team", "t0"]
    else:
        argv = ["event", "run", str(path), "--stack-cpu", "0.01"]  # no capacity check: this measures it
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", *argv], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    cpu: dict[int, float] = {}
    peak_mb = 0.0
    stop = threading.Event()
    running_since: list[float] = []

    def sample() -> None:
        nonlocal peak_mb
        while not stop.wait(0.5):
            rss = 0.0
            for p in lab_processes(root, proc.pid):
                try:
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
                    rss += p.memory_full_info().pss / 1e6  # shared pages split among their sharers
                except psutil.Error:
                    continue
            peak_mb = max(peak_mb, rss)
            if not running_since and (list(root.glob("runs/*/events.jsonl")) if k == 1 else _running(root, k)):
                running_since.append(time.monotonic())

    thread = threading.Thread(target=sample, daemon=True)
    began = time.monotonic()
    thread.start()
    out, _ = proc.communicate()
    stop.set()
    thread.join()
    elapsed = time.monotonic() - (running_since[0] if running_since else began)
    if k == 1:
        ended = [line for line in out.splitlines() if " drill s (" in line and " after " in line]
        outcomes = [ended[-1].split(" after ")[0].strip().replace(" ", "_") if ended else "refused"]
        refused = 0 if ended else 1
    else:
        teams = json.loads((root / "events" / str(plan["event"]) / "event.json").read_text())["teams"]
        outcomes = [t["outcome"] for t in teams]
        refused = sum(1 for t in teams if t["outcome"] in (None, "unknown") or t.get("error"))
    total_cpu = sum(cpu.values())
    return {"k": k, "outcomes": outcomes, "refused": refused, "held": refused == 0 and all(
        o == "recovered" for o in outcomes), "cpu_per_stack": total_cpu / (time.monotonic() - began) / k,
            "cpu_running": total_cpu / max(elapsed, 1e-9) / k, "mem_per_stack_mb": peak_mb / k,
            "seconds": time.monotonic() - began, "tail": out.strip().splitlines()[-3:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", default="1,2,3,4", help="comma-separated team counts (default 1,2,3,4)")
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--scenario", default="march-2023-db-overload")
    args = parser.parse_args()
    counts = [int(x) for x in args.teams.split(",") if x.strip()]
    print(f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; {args.scenario} at speed "
          f"{args.speed:g}, the autopilot responding for every team", flush=True)
    print(f"{'teams':>5}  {'held SLO + recovered':<22} {'CPU/stack (cores)':>18} {'memory/stack':>13}  outcomes")
    largest = 0
    with tempfile.TemporaryDirectory(prefix="gd-bench-capacity-") as tmp:
        for k in counts:
            r = one(k, args.scenario, args.speed, Path(tmp))
            if r["held"]:
                largest = max(largest, k)
            print(f"{k:>5}  {'yes' if r['held'] else 'NO':<22} {r['cpu_running']:>18.2f} "
                  f"{r['mem_per_stack_mb']:>10.0f} MB  {', '.join(str(o) for o in r['outcomes'])} "
                  f"({r['seconds']:.0f} s)", flush=True)
            if not r["held"]:
                print("       " + " | ".join(str(x) for x in r["tail"]))  # type: ignore[union-attr]
    print(f"largest number of teams that held: {largest} (of those tried)")


if __name__ == "__main__":
    main()
