"""Time from `gameday up` to all healthy and `gameday down`: cold (first initdb + seed), a new
stack from the cached template, and warm (the stack's own cluster already there). Prints
figures; not a test.

    .venv/bin/python benchmarks/stack_up.py [--warm-runs N] [--compare DIR]

`--compare DIR` times another checkout of the lab (e.g. `git worktree add /tmp/before <rev>`)
in the same run, each measurement taken in turn with this one's, and prints the ratios: absolute
timings on a shared machine are noisy, side-by-side ratios much less.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


@dataclass
class Checkout:
    """One copy of the lab to time, with its own run root and template cache."""

    label: str
    tree: Path
    root: Path
    cache: Path
    times: dict[str, list[float]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        paths = [self.tree, self.tree / "services" / "web", self.tree / "services" / "loadgen"]
        return {**os.environ, "GAMEDAY_ROOT": str(self.root), "LAB_CACHE_DIR": str(self.cache),
                "PYTHONPATH": os.pathsep.join(str(p) for p in paths)}

    def gameday(self, *args: str, record: str | None = None) -> float:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "lab.cli", *args], env=self.env(), cwd=self.tree,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            sys.exit(f"{self.label}: gameday {' '.join(args)} failed: {proc.stderr.strip()}")
        if record:
            self.times.setdefault(record, []).append(elapsed)
        return elapsed

    def cleanup(self) -> None:
        subprocess.run([sys.executable, "-m", "lab.cli", "down", "--all", "--purge"], env=self.env(),
                       cwd=self.tree, capture_output=True)


ROWS = (
    ("cold", "cold (initdb + schema + seed + start)"),
    ("fresh", "new stack from the cached template"),
    ("fresh_down", "down --purge of that stack"),
    ("warm", "warm (own cluster already initialised)"),
    ("warm_down", "down of the warm stack"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--compare", type=Path, metavar="DIR", help="another checkout to time side by side")
    args = parser.parse_args()
    if args.compare and not (args.compare / "lab" / "cli.py").is_file():
        sys.exit(f"--compare {args.compare}: not a checkout of the lab (no lab/cli.py there)")
    with tempfile.TemporaryDirectory(prefix="gd-bench-") as tmp:
        tmp_path = Path(tmp)
        os.chmod(tmp_path, 0o755)
        trees = [("this", HERE)] + ([("compared", args.compare.resolve())] if args.compare else [])
        checkouts = [Checkout(label, tree, tmp_path / label / "root", tmp_path / label / "cache")
                     for label, tree in trees]
        try:
            for co in checkouts:
                co.gameday("up", "--name", "cold", record="cold")
                co.gameday("down", "--name", "cold", "--purge")
            for i in range(3):
                for co in checkouts:
                    co.gameday("up", "--name", f"fresh{i}", record="fresh")
                    co.gameday("down", "--name", f"fresh{i}", "--purge", record="fresh_down")
            for co in checkouts:
                co.gameday("up", "--name", "warm")
                co.gameday("down", "--name", "warm")
            for _ in range(args.warm_runs):
                for co in checkouts:
                    co.gameday("up", "--name", "warm", record="warm")
                    co.gameday("down", "--name", "warm", record="warm_down")
        finally:
            for co in checkouts:
                co.cleanup()
    load = os.getloadavg()
    print(f"gameday up -> all healthy, and down (wall time of the CLI command, seconds; medians; "
          f"load average {load[0]:.1f} on {os.cpu_count()} cores)")
    header = f"  {'':<42} {'this':>7}" + (f" {'compared':>9} {'ratio':>6}" if args.compare else "")
    print(header)
    for key, label in ROWS:
        mine = statistics.median(checkouts[0].times[key])
        line = f"  {label:<42} {mine:7.2f}"
        if args.compare:
            theirs = statistics.median(checkouts[1].times[key])
            line += f" {theirs:9.2f} {mine / theirs:6.2f}"
        if key == "warm":
            line += "  (goal <= 2.0)"
        print(line)
    runs = {key: len(values) for key, values in checkouts[0].times.items()}
    print(f"  runs each: {runs}")


if __name__ == "__main__":
    main()
