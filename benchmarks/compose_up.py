"""`gameday up --stack compose` to all healthy with the images present: a new stack (a fresh
database volume: initdb, Arcade's schema and seed) and a warm one (the volume kept by
`down --keep-data`), and `down`; then `gameday images build` with every image present (cached).
`--cold-build` also times a build from nothing (it removes the lab's images first: minutes).
Prints figures; not a test. Needs a Docker engine.

    .venv/bin/python benchmarks/compose_up.py [--runs N] [--cold-build]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def gameday(root: Path, *args: str, timeout: float = 900) -> float:
    env = {**os.environ, "GAMEDAY_ROOT": str(root)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"gameday {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def remove_lab_images() -> None:
    """Every gameday-lab image and the build cache they left (the cold start of a new machine)."""
    import docker

    client = docker.from_env()
    for image in client.images.list(name="gameday-lab/*"):
        for tag in image.tags:
            client.images.remove(tag, force=True)
    client.images.prune(filters={"dangling": True})


def summary(label: str, values: list[float], goal: str = "") -> str:
    spread = f"min {min(values):.1f}, max {max(values):.1f}" if len(values) > 1 else ""
    return f"  {label:<44} {statistics.median(values):6.1f}  (median of {len(values)}{'; ' + spread if spread else ''})" \
           + (f"  {goal}" if goal else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-build", action="store_true", help="also time a build from nothing (slow)")
    args = parser.parse_args()
    builds: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        root = Path(tmp) / "root"
        if args.cold_build:
            remove_lab_images()
            builds.append(("images build --offline, cold (nothing present)", gameday(root, "images", "build",
                                                                                     "--offline", timeout=3600)))
        builds.append(("images build --offline, cached (all present)", gameday(root, "images", "build", "--offline")))
        name = f"bench{uuid.uuid4().hex[:6]}"
        fresh, warm, down = [], [], []
        try:
            for _ in range(args.runs):
                fresh.append(gameday(root, "up", "--stack", "compose", "--name", name))
                down.append(gameday(root, "down", "--name", name))
            gameday(root, "up", "--stack", "compose", "--name", name)
            gameday(root, "down", "--name", name, "--keep-data")
            for _ in range(args.runs):
                warm.append(gameday(root, "up", "--stack", "compose", "--name", name))
                gameday(root, "down", "--name", name, "--keep-data")
        finally:  # --all also finds a stack downed with --keep-data (its volume)
            subprocess.run([sys.executable, "-m", "lab.cli", "down", "--all", "--purge"],
                           env={**os.environ, "GAMEDAY_ROOT": str(root)}, capture_output=True)
    load = os.getloadavg()
    print(f"gameday up --stack compose -> all healthy (wall time of the CLI command, seconds; "
          f"load average {load[0]:.1f} on {os.cpu_count()} cores)")
    print(summary("new stack (fresh volume: initdb, schema, seed)", fresh, "goal <= 20"))
    print(summary("warm (database volume kept)", warm, "goal <= 20"))
    print(summary("down (containers, network, volume removed)", down))
    for label, seconds in builds:
        print(f"  {label:<44} {seconds:6.1f}")


if __name__ == "__main__":
    main()
