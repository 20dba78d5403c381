"""Wall time of `gameday verify` over every scenario in scenarios/ on the embedded stack.

    python benchmarks/verify.py [--jobs 1 2] [--speed 10]

Runs the real command once per --jobs value (side by side, on the same machine state), reads its
JUnit file and prints the total and, per scenario, the time of the whole scenario, of its
autopilot drill (stack up to score) and of its wrong-turns drill. Goal: <= 5 minutes in total.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
GOAL_S = 300.0


def run(jobs: int, speed: float) -> tuple[float, int, list[tuple[str, float, float, float, str]]]:
    with tempfile.TemporaryDirectory(prefix="bench-verify-") as tmp:
        junit = Path(tmp) / "verify.xml"
        began = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "lab.cli", "verify", "--jobs", str(jobs), "--speed", str(speed),
                               "--junit", str(junit), "--root", str(Path(tmp) / "gd")],
                              cwd=PROJECT, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
        wall = time.monotonic() - began
        if not junit.exists():
            sys.exit(f"gameday verify wrote no JUnit file (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        rows = []
        for suite in ET.parse(junit).getroot().findall("testsuite"):
            times = {case.get("name"): float(case.get("time") or 0) for case in suite.findall("testcase")}
            wrong = times.get("wrong_turns", 0.0)
            autopilot = float(suite.get("time") or 0) - wrong
            result = "passed" if suite.get("failures") == "0" and suite.get("errors") == "0" else "FAILED"
            rows.append((suite.get("name") or "?", float(suite.get("time") or 0), autopilot, wrong, result))
        return wall, proc.returncode, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1])
    parser.add_argument("--speed", type=float, default=10.0)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"gameday verify, every scenario, embedded stack, speed {args.speed:g}; "
          f"{os.cpu_count()} cores, load average {load:.1f} at the start")
    for jobs in args.jobs:
        wall, code, rows = run(jobs, args.speed)
        verdict = "meets" if wall <= GOAL_S else "misses"
        print(f"\n--jobs {jobs}: {wall:.1f} s wall for {len(rows)} scenarios (exit {code}; {verdict} the "
              f"{GOAL_S:.0f} s goal)")
        print(f"  {'scenario':<36} {'total':>8} {'autopilot':>10} {'wrong-turns':>12}  result")
        for name, total, autopilot, wrong, result in rows:
            print(f"  {name:<36} {total:>7.1f}s {autopilot:>9.1f}s {wrong:>11.1f}s  {result}")


if __name__ == "__main__":
    main()
