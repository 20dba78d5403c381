"""`gameday verify`: every scenario still breaks the site and still heals; a table and JUnit XML for CI.

Exit codes: 0 every check passed, 1 a check failed (or could not be made, or a halt), 2 bad input
(nothing started).
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from lab.catalog import CATALOG
from lab.completion import scenario_ids
from lab.core.scenario import Scenario
from lab.core.safe_text import terminal
from lab.core.variants import seeds_for
from lab.errors import UsageError, display
from lab.output import is_terminal, print_json, print_table, stdout_console
from lab.stack.state import default_root
from lab.verify.junit import junit_xml
from lab.verify.model import Check, ScenarioReport, Status, exit_code
from lab.verify.pipeline import STACK_MODES, Cancel, ScenarioVerify, VerifyOptions, check_stack_mode
from lab.verify.worker import Workers, spawn

console = stdout_console()
COLOURS = {Status.PASSED: "green", Status.FAILED: "red", Status.ERROR: "red", Status.SKIPPED: "yellow"}


def load_scenarios(refs: tuple[str, ...], variants: int = 0) -> list[tuple[Path, Scenario, str, float]]:
    """(path, scenario, text, seconds to validate) for each SCENARIO (all of scenarios/ by default),
    and with `variants` N, for N seeds of each scenario that declares variants (its concrete
    variants, seeds derived from its id: the same N seeds on every run); UsageError on the first
    unknown or invalid one, before anything starts."""
    paths = [CATALOG.resolve(ref) for ref in refs] if refs else CATALOG.scenario_files()
    if not paths:
        raise UsageError(f"no scenarios in {display(CATALOG.scenario_dir)}; name scenario files as arguments")
    out, seen = [], set()
    for path in paths:
        if path.resolve() in seen:
            continue
        seen.add(path.resolve())
        began = time.monotonic()
        scenario, text = CATALOG.load(path)
        if variants and scenario.variants is not None:
            for seed in seeds_for(zlib.crc32(scenario.id.encode()), variants):
                began = time.monotonic()
                out.append((path, *CATALOG.load(path, seed=seed), time.monotonic() - began))
        else:
            out.append((path, scenario, text, time.monotonic() - began))
    return out


def _check_junit(path: Path | None) -> None:
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--junit {path}: is a directory; give a file name, e.g. {path / 'verify.xml'}")
    if not path.parent.resolve().is_dir():
        raise UsageError(f"--junit {path}: directory {path.parent} does not exist")


class Printer:
    """Prints each check as it finishes (from any job's thread)."""

    def __init__(self, out: Console) -> None:
        self.lock = threading.Lock()
        self.out = out

    def __call__(self, report: ScenarioReport, check: Check) -> None:
        colour = COLOURS[check.status]
        detail = check.measured if check.passed else check.message().split(": ", 1)[1]
        with self.lock:
            self.out.print(f"{escape(report.scenario_id)}  {escape(f'{check.name:<20}')} "
                           f"[{colour}]{check.status.value:<7}[/] {check.seconds:6.1f} s  {escape(terminal(detail))}",
                           soft_wrap=True)


def print_summary(reports: list[ScenarioReport], seconds: float) -> None:
    """One row per scenario (piped: tab-separated, whole ids)."""
    rows = []
    for r in reports:
        bad = next((c for c in r.checks if c.bad), None)
        rows.append((r.scenario_id, Text("passed", style="green") if r.passed else Text("FAILED", style="red"),
                     f"{r.seconds:.0f} s",
                     f"{sum(c.passed for c in r.checks)}/{len(r.failures) + len(r.errors)}/{len(r.skips)}",
                     bad.name if bad else "-"))
    headline = f"gameday verify: {sum(r.passed for r in reports)}/{len(reports)} scenarios passed in {seconds:.0f} s"
    print_table(headline, ("scenario", "result", "time", "passed/failed/skipped", "first failure"), rows)
    if not is_terminal():  # the table's title, which piped rows do not carry: CI logs read it
        click.echo(headline)


def summary_json(reports: list[ScenarioReport], seconds: float, mode: str, speed: float, halted: bool) -> dict[str, Any]:
    """The verify summary as `--json` prints it (schema: lab/schemas/verify.json)."""
    return {
        "passed": exit_code(reports) == 0 and not halted,
        "exit_code": exit_code(reports),
        "halted": halted,
        "stack": mode,
        "speed": speed,
        "seconds": round(seconds, 2),
        "scenarios": [{"id": r.scenario_id, "path": r.path, "passed": r.passed, "seconds": round(r.seconds, 2),
                       "kept": r.kept,
                       "checks": [{**c.to_dict(), "message": c.message()} for c in r.checks]} for r in reports],
    }


@click.command()
@click.argument("refs", nargs=-1, metavar="[SCENARIO]...", shell_complete=scenario_ids)
@click.option("--stack", "mode", type=click.Choice(STACK_MODES), default="local", show_default=True,
              help="Where the stacks run.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path), help="Write a JUnit XML report here.")
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=10.0, show_default=True,
              help="Compress drill time (the wrong-turns drill runs faster when its script is long).")
@click.option("--jobs", "-j", type=click.IntRange(1, 16), default=2, show_default=True,
              help="Scenarios verified at once, each in a process, on stacks and ports of its own.")
@click.option("--steady-timeout", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds a drill waits for the steady state.")
@click.option("--variants", type=click.IntRange(0, 100), default=0, show_default=True, metavar="N",
              help="Verify N seeded variants of each scenario that declares `variants:` (what differs between "
                   "teams), instead of the scenario as written; the seeds are the same on every run.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
              help="Run root [default: .gameday, or $GAMEDAY_ROOT]; verify works under <root>/verify/.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the summary as JSON on stdout (schema: lab/schemas/verify.json); progress goes to stderr.")
def verify(refs: tuple[str, ...], mode: str, junit_path: Path | None, speed: float, jobs: int,
           steady_timeout: float, variants: int, root: Path | None, as_json: bool) -> int:
    """Check that scenarios still break the site and still heal (all of scenarios/ by default):
    steady state, each fault's symptom, recovery by the autopilot at or above par, the wrong-turns
    responder below it. Exit 0 all passed, 1 a check failed, 2 bad input."""
    check_stack_mode(mode)
    _check_junit(junit_path)
    loaded = load_scenarios(refs, variants)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    work = (root or default_root()) / "verify" / stamp
    options = VerifyOptions(stack=mode, speed=speed, root=work, steady_timeout_s=steady_timeout)
    cancel = Cancel()
    out = Console(stderr=True, highlight=False) if as_json else console
    printer = Printer(out)
    jobs = min(jobs, len(loaded))
    out.print(f"verifying {len(loaded)} scenario(s) on the {mode} stack at speed {speed:g}, "
                  f"{jobs} at a time; work dir {display(work)}")
    workers = Workers()

    def one(index: int, path: Path, scenario: Scenario, text: str, validate_s: float) -> ScenarioReport:
        if jobs == 1:  # in this process
            return ScenarioVerify(index, path, display(path), scenario, text, validate_s, options, cancel,
                                  printer).run()
        return spawn(index, path, display(path), scenario, options, workers, printer)

    def halt(_sig: int, _frame: object) -> None:
        cancel.halt()
        workers.halt()

    began = time.monotonic()
    previous = {sig: signal.signal(sig, halt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="verify") as pool:
            futures = [pool.submit(one, i + 1, *entry) for i, entry in enumerate(loaded)]
            reports = [f.result() for f in futures]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    seconds = time.monotonic() - began
    out.print()
    if not as_json:
        print_summary(reports, seconds)
    for report in reports:
        for check in report.checks:
            if check.bad:
                out.print(f"[red]{escape(report.scenario_id)}[/]: {escape(terminal(check.message()))}", soft_wrap=True)
        if report.kept:
            out.print(f"  run directory kept: {escape(display(Path(report.kept)))}", soft_wrap=True)
    if junit_path is not None:
        junit_path.write_text(junit_xml(reports, socket.gethostname(), seconds))
        out.print(f"JUnit report: {display(junit_path)}")
    try:
        work.rmdir()  # empty when every scenario passed
        work.parent.rmdir()
    except OSError:
        pass
    halted = cancel.is_set() or workers.halted
    if halted:
        out.print("[yellow]halted[/]: drills stopped, faults reverted, stacks down")
    if as_json:
        print_json(summary_json(reports, seconds, mode, speed, halted))
    return exit_code(reports)
