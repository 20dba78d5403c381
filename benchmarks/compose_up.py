"""`gameday up --stack compose` to all healthy with the images present: a new stack (a fresh
database volume: initdb, Arcade's schema and seed) and a warm one (the volume kept by
`down --keep-data`), and `down`; then `gameday images build` with every image present (cached).
`--cold-build` also times a build from nothing (it removes the lab's images first: minutes).
Prints figures; not a test. Needs a Docker engine.

    .venv/bin/python benchmarks/compose_up.py [--runs N] [--cold-build] [--compare DIR]

`--compare DIR` times another checkout of the lab in the same run, in turn with this one, and
prints the ratios.
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


HERE = Path(__file__).resolve().parent.parent


def env_for(root: Path, tree: Path) -> dict[str, str]:
    paths = [tree, tree / "services" / "web", tree / "services" / "loadgen"]
    return {**os.environ, "GAMEDAY_ROOT": str(root), "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}


def gameday(root: Path, *args: str, timeout: float = 900, tree: Path = HERE) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], env=env_for(root, tree), cwd=tree,
                          capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{tree}: gameday {' '.join(args)} failed: {proc.stderr.strip()}")
    return elapsed


def remove_lab_images() -> None:
    """Every gameday-lab image and the build cache they left (the cold start of a new machine)."""
    import docker

    client = docker.from_env()
    for image in client.images.list(name="gameday-lab/*"):
        for tag in image.tags:
            client.images.remove(tag, force=True)
    client.images.prune(filters={"dangling": True})


def summary(label: str, values: list[float], goal: str = "", compared: list[float] | None = None) -> str:
    spread = f"min {min(values):.1f}, max {max(values):.1f}" if len(values) > 1 else ""
    line = f"  {label:<44} {statistics.median(values):6.1f}  (median of {len(values)}{'; ' + spread if spread else ''})"
    if compared:
        theirs = statistics.median(compared)
        line += f"  compared: {theirs:.1f}, ratio {statistics.median(values) / theirs:.2f}"
    return line + (f"  {goal}" if goal else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold-build", action="store_true", help="also time a build from nothing (slow)")
    parser.add_argument("--compare", type=Path, metavar="DIR",
                        help="another checkout of the lab, timed in turn with this one (its images are built first)")
    args = parser.parse_args()
    if args.compare and not (args.compare / "lab" / "cli.py").is_file():
        sys.exit(f"--compare {args.compare}: not a checkout of the lab (no lab/cli.py there)")
    trees = [HERE] + ([args.compare.resolve()] if args.compare else [])
    builds: list[tuple[str, float]] = []
    times: dict[Path, dict[str, list[float]]] = {tree: {"fresh": [], "warm": [], "down": []} for tree in trees}
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        roots = {tree: Path(tmp) / f"root{i}" for i, tree in enumerate(trees)}
        if args.cold_build:
            remove_lab_images()
            builds.append(("images build --offline, cold (nothing present)", gameday(roots[HERE], "images", "build",
                                                                                     "--offline", timeout=3600)))
        builds.append(("images build --offline, cached (all present)", gameday(roots[HERE], "images", "build",
                                                                              "--offline")))
        if args.compare:
            gameday(roots[trees[1]], "images", "build", "--offline", timeout=3600, tree=trees[1])
        tag = uuid.uuid4().hex[:6]
        names = {tree: f"bench{tag}{i}" for i, tree in enumerate(trees)}  # no volume shared between the checkouts
        try:
            for _ in range(args.runs):
                for tree in trees:
                    times[tree]["fresh"].append(gameday(roots[tree], "up", "--stack", "compose", "--name", names[tree],
                                                        tree=tree))
                    times[tree]["down"].append(gameday(roots[tree], "down", "--name", names[tree], tree=tree))
            for tree in trees:
                gameday(roots[tree], "up", "--stack", "compose", "--name", names[tree], tree=tree)
                gameday(roots[tree], "down", "--name", names[tree], "--keep-data", tree=tree)
            for _ in range(args.runs):
                for tree in trees:
                    times[tree]["warm"].append(gameday(roots[tree], "up", "--stack", "compose", "--name", names[tree],
                                                       tree=tree))
                    gameday(roots[tree], "down", "--name", names[tree], "--keep-data", tree=tree)
        finally:  # --all also finds a stack downed with --keep-data (its volume)
            for tree in trees:
                subprocess.run([sys.executable, "-m", "lab.cli", "down", "--all", "--purge"],
                               env=env_for(roots[tree], tree), cwd=tree, capture_output=True)
    load = os.getloadavg()
    mine, theirs = times[HERE], (times[trees[1]] if args.compare else None)
    print(f"gameday up --stack compose -> all healthy (wall time of the CLI command, seconds; "
          f"load average {load[0]:.1f} on {os.cpu_count()} cores)")
    print(summary("new stack (fresh volume: initdb, schema, seed)", mine["fresh"], "goal <= 20",
                  theirs["fresh"] if theirs else None))
    print(summary("warm (database volume kept)", mine["warm"], "goal <= 20", theirs["warm"] if theirs else None))
    print(summary("down (containers, network, volume removed)", mine["down"], "",
                  theirs["down"] if theirs else None))
    for label, seconds in builds:
        print(f"  {label:<44} {seconds:6.1f}")


if __name__ == "__main__":
    main()
