"""Arcade's throughput and latency in pool mode at fixed concurrency, measured by wrk (an
independent client from the OS packages). Prints figures; not a test.

    .venv/bin/python benchmarks/arcade_http.py [--duration 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from lab.stack.config import load_config
from lab.stack.local import LocalStack

ROUTES = {"lobby": "/", "leaderboard": "/leaderboard?game=tetra&limit=10"}


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, duration: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = float(errors.group(1)) if errors else 0.0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: `make bench` installs it (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        Path(tmp).chmod(0o755)
        config = load_config(
            None,
            [f"web.workers={args.workers}", f"web.threads={args.threads}", "web.access_mode=pool", "web.pool_size=4"],
        )
        stack = LocalStack("http", Path(tmp), config)
        stack.up()
        try:
            base = stack.urls()["arcade"].rstrip("/")
            wrk(base + ROUTES["leaderboard"], 2, args.connections)  # warm-up
            results = {name: wrk(base + path, args.duration, args.connections) for name, path in ROUTES.items()}
        finally:
            stack.down(purge=True)
    print(
        f"Arcade, pool mode, {args.workers} gunicorn workers x {args.threads} threads, "
        f"wrk 1 thread x {args.connections} connections, {args.duration} s per route"
    )
    print(f"  {'route':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, r in results.items():
        print(f"  {name:<12} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['non2xx']:8.0f}")


if __name__ == "__main__":
    main()
