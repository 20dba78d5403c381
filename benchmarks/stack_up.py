"""Time from `gameday up` to all healthy: cold (first initdb + seed), new stack from the cached
template, and warm (the stack's own cluster already there). Prints figures; not a test.

    .venv/bin/python benchmarks/stack_up.py [--warm-runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def gameday(root: Path, cache: Path, *args: str) -> float:
    env = {**os.environ, "GAMEDAY_ROOT": str(root), "LAB_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"gameday {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        root, cache = tmp_path / "root", tmp_path / "cache"
        try:
            cold = gameday(root, cache, "up", "--name", "cold")
            gameday(root, cache, "down", "--name", "cold", "--purge")
            fresh = []
            for i in range(3):
                fresh.append(gameday(root, cache, "up", "--name", f"fresh{i}"))
                gameday(root, cache, "down", "--name", f"fresh{i}", "--purge")
            gameday(root, cache, "up", "--name", "warm")
            gameday(root, cache, "down", "--name", "warm")
            warm = []
            for _ in range(args.warm_runs):
                warm.append(gameday(root, cache, "up", "--name", "warm"))
                gameday(root, cache, "down", "--name", "warm")
        finally:
            subprocess.run(
                [sys.executable, "-m", "lab.cli", "down", "--all", "--purge"],
                env={**os.environ, "GAMEDAY_ROOT": str(root)}, capture_output=True,
            )
    print("gameday up -> all healthy (wall time of the CLI command, seconds)")
    print(f"  cold (initdb + schema + seed + start):   {cold:6.2f}")
    print(f"  new stack from the cached template:      {statistics.median(fresh):6.2f}  (median of {len(fresh)})")
    print(
        f"  warm (own cluster already initialised):  {statistics.median(warm):6.2f}  "
        f"(median of {len(warm)}; min {min(warm):.2f}, max {max(warm):.2f}; goal <= 2.0)"
    )


if __name__ == "__main__":
    main()
