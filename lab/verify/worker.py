"""One scenario verified in a process of its own, for `gameday verify --jobs N` with N > 1.

Some clients the lab drives keep process-wide settings (toxiproxy-python's API address is a class
attribute), so two scenarios verified at the same time in one interpreter would inject each
other's faults. Each job therefore runs here, in its own interpreter:

    gameday verify ──argv──▶ python -m lab.verify.worker ... SCENARIO
                   ◀─stdout── "@verify-check {json}" per check, then "@verify-report {json}"
                   ──SIGTERM─▶ (on Ctrl-C / SIGTERM) the drill halts, faults reverted, stacks down
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lab.catalog import CATALOG
from lab.verify.model import Check, ScenarioReport, error
from lab.core.scenario import Scenario
from lab.verify.pipeline import Cancel, ScenarioVerify, VerifyOptions, report_id

CHECK, REPORT = "@verify-check ", "@verify-report "


class Workers:
    """The worker processes running now, so that a halt reaches every one."""

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()
        self.halted = False

    def add(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._procs.add(proc)
            if self.halted:
                proc.send_signal(signal.SIGTERM)

    def remove(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def halt(self) -> None:
        with self._lock:
            self.halted = True
            for proc in self._procs:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)


def spawn(index: int, path: Path, display: str, scenario: Scenario, options: VerifyOptions, workers: Workers,
          on_check: Callable[[ScenarioReport, Check], None]) -> ScenarioReport:
    """Verify one scenario (or one seeded variant of it) in a worker process; its checks are passed on as they come."""
    argv = [sys.executable, "-m", "lab.verify.worker", "--index", str(index), "--display", display,
            "--stack", options.stack, "--speed", repr(options.speed), "--root", str(options.root),
            "--steady-timeout", repr(options.steady_timeout_s), "--token", options.token,
            *(["--seed", str(scenario.seed)] if scenario.seed is not None else []), str(path)]
    live = ScenarioReport(report_id(scenario), display, options.stack, options.speed)
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL, text=True,
                                start_new_session=True)  # a terminal's Ctrl-C reaches it through `workers`
        workers.add(proc)
        report = None
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith(CHECK):
                    on_check(live, Check.from_dict(json.loads(line[len(CHECK):])))
                elif line.startswith(REPORT):
                    report = ScenarioReport.from_dict(json.loads(line[len(REPORT):]))
            code = proc.wait()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            workers.remove(proc)
        if report is not None:
            return report
        err.seek(0)
        tail = " | ".join(err.read().strip().splitlines()[-3:]) or "no output"
    live.checks.append(error("validate", f"the worker process exited with code {code} without a report: {tail}"))
    live.seconds = round(time.monotonic() - began, 2)
    return live


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.verify.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--display", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--steady-timeout", type=float, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    cancel = Cancel()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _s, _f: cancel.halt())
    began = time.monotonic()
    scenario, text = CATALOG.load(args.path, seed=args.seed)
    options = VerifyOptions(stack=args.stack, speed=args.speed, root=args.root, steady_timeout_s=args.steady_timeout,
                            token=args.token)

    def on_check(_report: ScenarioReport, check: Check) -> None:
        print(CHECK + json.dumps(check.to_dict()), flush=True)

    report = ScenarioVerify(args.index, args.path, args.display, scenario, text, time.monotonic() - began, options,
                            cancel, on_check).run()
    print(REPORT + json.dumps(report.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
