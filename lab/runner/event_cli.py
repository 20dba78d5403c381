"""`gameday event run | scoreboard | report`: a game day for several teams (lab.runner.event)."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from lab.catalog import CATALOG
from lab.core.event import EventInvalid, EventPlan, parse_event, slug
from lab.errors import UsageError, display
from lab.runner import event as runner
from lab.stack.state import default_root

console = Console(highlight=False)


def read_plan(path: Path | None, flags: dict[str, Any]) -> EventPlan:
    """The plan from an event file, with flags given on the command line taking precedence."""
    data: dict[str, Any] = {}
    if path is not None:
        from lab.core.safe_input import expect
        from lab.inputs import read_yaml

        loaded = read_yaml(path)
        try:
            data = dict(expect(loaded, dict, "a mapping with event, scenario, teams, ...") if loaded is not None else {})
        except ValueError as exc:
            raise UsageError(f"{display(path)}: {exc}") from None
    data.update({k: v for k, v in flags.items() if v is not None and v != ()})
    if "event" not in data and "scenario" in data:
        data["event"] = slug(str(data["scenario"]).split("/")[-1].removesuffix(".yaml"))
    where = display(path) if path is not None else "event"
    known = [p.stem for p in CATALOG.scenario_files()]
    try:
        return parse_event(data, known)
    except EventInvalid as exc:
        raise UsageError(f"{where}: {exc}") from None


@click.group()
def event() -> None:
    """A game day for several teams: one scenario, a stack and a seeded variant per team, one scoreboard."""


@event.command("run")
@click.argument("event_file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--event", "name", default=None, help="The event's name (names its stacks <event>-<team>) [default: from the scenario].")
@click.option("--scenario", default=None, help="Scenario id or file (overrides the event file's).")
@click.option("--team", "teams", multiple=True, help="A team (repeat: 2 to 30); overrides the event file's teams.")
@click.option("--stack", "kind", type=click.Choice(["local", "compose"]), default=None,
              help="The kind of every team's stack [default: local].")
@click.option("--start", type=click.Choice(["together", "staggered"]), default=None,
              help="Start every team at once (default) or one after another.")
@click.option("--stagger", "stagger_s", type=click.FloatRange(0, 3600), default=None, help="Seconds between staggered starts [60].")
@click.option("--no-hints", "no_hints", is_flag=True, default=False, help="Release no hints to any team.")
@click.option("--time-limit", "time_limit_s", type=click.FloatRange(1, 86400), default=None,
              help="Drill seconds before every team's drill ends [default: the scenario's].")
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=None, help="Compress drill time [1].")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="The event's seed: each team's variant comes from it, so the same seed replays the event [1].")
@click.option("--stack-cpu", type=click.FloatRange(0.01, 64), default=runner.STACK_CPU, show_default=True,
              help="Cores one team's stack takes during a drill (for the capacity check).")
@click.option("--stack-memory", "stack_memory_mb", type=click.FloatRange(1, 1e6), default=runner.STACK_MEMORY_MB,
              show_default=True, help="MB one team's stack takes during a drill (for the capacity check).")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
              help="Run root [default: .gameday, or $GAMEDAY_ROOT].")
def run(event_file: Path | None, name: str | None, scenario: str | None, teams: tuple[str, ...], kind: str | None,
        start: str | None, stagger_s: float | None, no_hints: bool, time_limit_s: float | None, speed: float | None,
        seed: int | None, stack_cpu: float, stack_memory_mb: float, root: Path | None) -> None:
    """Run an event: every team's stack up, every team's drill (its own variant of the scenario), the
    scoreboard as they play, the event report at the end, every stack down. Ctrl-C (or `gameday halt
    --all`) halts every drill and takes every stack down."""
    if event_file is None and (scenario is None or not teams):
        raise UsageError("give an event file, or --scenario and two or more --team")
    flags = {"event": name, "scenario": scenario, "stack": kind, "start": start, "stagger_s": stagger_s,
             "time_limit_s": time_limit_s, "speed": speed, "seed": seed, "hints": False if no_hints else None,
             "teams": list(teams) if teams else None}
    plan = read_plan(event_file, flags)
    base = root or default_root()
    capacity = runner.machine_capacity(stack_cpu, stack_memory_mb) if plan.stack == "local" else None
    ev = runner.EventRun(plan, base, progress=lambda m: console.print(escape(m), soft_wrap=True), capacity=capacity)
    previous = {sig: signal.signal(sig, lambda _s, _f: ev.halt()) for sig in (signal.SIGINT, signal.SIGTERM)}
    console.print(f"event [bold]{escape(plan.event)}[/]: {escape(plan.scenario)} for {len(plan.teams)} teams on "
                  f"{plan.stack} stacks at speed {plan.speed:g}; event directory {display(ev.dir)}", soft_wrap=True)
    try:
        ev.run(on_tick=_every(BOARD_EVERY_S, lambda e: console.print(escape(standing_line(e)), soft_wrap=True)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    info = runner.load_event(plan.event, base)
    rows = runner.standings(info)
    _print_board(rows, plan.event)
    from lab.report.event import write_event_report

    md, page = write_event_report(info)
    console.print(f"event report: {display(md)}, {display(page)}")
    if ev.status == "halted":
        console.print("[yellow]halted[/]: every drill stopped, its faults reverted, every stack down")


@event.command("scoreboard")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the ranking as JSON.")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
              help="Run root [default: .gameday, or $GAMEDAY_ROOT].")
def scoreboard(name: str | None, as_json: bool, root: Path | None) -> None:
    """The event's live ranking (the newest event by default): score, phase, times, hints."""
    info = runner.load_event(name, root or default_root())
    rows = runner.standings(info)
    if as_json:
        from lab.output import print_json

        print_json({"event": info["event"], "status": info["status"], "teams": rows})
        return
    _print_board(rows, info["event"], info["status"])


@event.command("report")
@click.argument("name", required=False)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
              help="Run root [default: .gameday, or $GAMEDAY_ROOT].")
def report(name: str | None, root: Path | None) -> None:
    """Write the event report: the teams side by side, their paths beside the original incident's."""
    from lab.report.event import write_event_report

    md, page = write_event_report(runner.load_event(name, root or default_root()))
    click.echo(f"{md}\n{page}")


BOARD_EVERY_S = 30.0  # real seconds between two scoreboard lines while the event runs


def _every(seconds: float, fn: Any) -> Any:
    """`fn(event)` at most once every `seconds` (the runner ticks every two seconds)."""
    last = [0.0]

    def tick(ev: Any) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            fn(ev)

    return tick


def standing_line(ev: runner.EventRun) -> str:
    """One line of the live ranking: `scoreboard: 1. red 62 (mitigating)  2. blue 40 (diagnosing)`."""
    rows = runner.standings({"teams": [t.to_dict() for t in ev.teams]})
    parts = [f"{r['rank']}. {r['team']} {'-' if r['score'] is None else format(r['score'], '.0f')} ({r['phase']})"
             for r in rows]
    return f"{time.strftime('%H:%M:%S')} scoreboard: " + "  ".join(parts)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def _print_board(rows: list[dict[str, Any]], name: str, status: str = "ended") -> None:
    """The ranking: a table on a terminal; piped, one tab-separated line per team (lab.output)."""
    from lab.output import print_table

    from lab.output import is_terminal

    columns: tuple[str, ...] = ("#", "team", "score", "phase", "acknowledged", "diagnosed", "recovered", "hints", "seed", "run")
    cells = [[str(r["rank"]), r["team"], "-" if r["score"] is None else f"{r['score']:.0f}", r["phase"],
              _clock(r["ack_s"]), _clock(r["diagnosis_s"]), _clock(r["recovered_s"]), str(r["hints"]), str(r["seed"]),
              r["run_id"] or "-"] for r in rows]
    if is_terminal():  # the seed and the run id are for scripts (piped, --json) and the report
        columns, cells = columns[:-2], [row[:-2] for row in cells]
    print_table(f"event {name} ({status})", columns, cells)
