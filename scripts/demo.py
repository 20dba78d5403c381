"""`make demo`: the March 2023 outage replayed on a real stack, with the autopilot responding.

Arcade comes up on a private PostgreSQL; a tournament surge and leaked connections take it
down; the scripted responder follows the runbook (acknowledge, inspect the database, rule out
the network, terminate the leaked sessions); the site heals. The run's files are listed at the
end. DEMO_SPEED (default 10) compresses drill time.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from lab.timeline import rundir

console = Console(highlight=False)


def main() -> int:
    speed = os.environ.get("DEMO_SPEED", "10")
    console.rule("[bold]gameday-lab demo: the March 2023 outage, replayed")
    console.print(
        "A traffic surge and leaked database connections will take Arcade down; the autopilot\n"
        f"responds by the runbook. Drill time runs {speed}x faster than real time.\n"
    )
    cmd = [sys.executable, "-m", "lab.cli", "drill", "march-2023-db-overload", "--autopilot",
           "--speed", speed, "--name", "demo", "--team", "demo"]
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        return result.returncode
    runs = sorted(rundir.list_runs(Path(os.environ.get("GAMEDAY_ROOT", ".gameday"))), key=lambda p: p.stat().st_mtime)
    if runs:
        console.print("\n[bold]outputs of this run[/]")
        for name, what in ((rundir.EVENTS, "the timeline: faults, alerts, every responder action"),
                           (rundir.FAULTS, "the fault journal"), (rundir.SCENARIO, "the scenario as run"),
                           (rundir.REPORT_MD, "the postmortem draft"),
                           (rundir.REPORT_HTML, "charts, the score card, the path beside the original")):
            console.print(f"  {runs[-1] / name}  ({what})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
