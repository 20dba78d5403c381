"""`gameday validate | list | drill | halt`: scenarios, and running them."""

from __future__ import annotations

import getpass
import os
import signal
import time
from typing import TYPE_CHECKING
from pathlib import Path

import click
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from lab.catalog import CATALOG
from lab.completion import scenario_ids
from lab.core.safe_text import terminal
from lab.output import stdout_console
from lab.console.info import token_options
from lab.errors import UsageError
from lab.runner.drill import Drill, DrillOptions, DrillStatus, install_signal_handlers
from lab.stack import procs
from lab.stack.cli import stack_named, stack_options
from lab.stack.config import load_config

if TYPE_CHECKING:
    from lab.console.server import ConsoleProcess
from lab.stack.base import Stack
from lab.stack.open import KINDS, open_stack
from lab.timeline import rundir

console = stdout_console()


class Duration(click.ParamType):  # type: ignore[type-arg]  # generic only from click 8.2
    """A duration option: 90, 90s, 5m, 1h30m."""

    name = "duration"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        from lab.core.duration import parse_duration

        try:
            seconds = parse_duration(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if not 0 <= seconds <= 24 * 3600:
            self.fail(f"{value!r} is out of range; use 0 to 24h", param, ctx)
        return seconds


@click.command()
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
def validate(files: tuple[Path, ...]) -> None:
    """Validate scenario files (all of scenarios/ by default); exit 2 on the first error."""
    paths = list(files) or CATALOG.scenario_files()
    for path in paths:
        scenario, _ = CATALOG.load(CATALOG.resolve(str(path)))
        console.print(Text(terminal(f"{path}: ok ({scenario.id}, {len(scenario.faults)} fault steps, runbook {scenario.runbook})")))


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of scenarios (schema: lab/schemas/list.json).")
def list_scenarios(as_json: bool) -> None:
    """List the scenarios: id, title, difficulty, the incident it retells.

    Piped, one tab-separated line per scenario (id, title, difficulty, based on), nothing cut."""
    from lab.output import print_json, print_table

    scenarios = [CATALOG.load(path)[0] for path in CATALOG.scenario_files()]
    if as_json:
        print_json([{"id": s.id, "title": s.title, "difficulty": s.difficulty,
                     "based_on": s.based_on.incident if s.based_on else None} for s in scenarios])
        return
    print_table("scenarios", ("id", "title", "difficulty", "based on"),
                [(s.id, s.title, s.difficulty, s.based_on.incident if s.based_on else "-") for s in scenarios])


def _render(status: DrillStatus, title: str) -> Group:
    avail = "-" if status.availability is None else f"{status.availability:.1%}"
    p95 = "-" if status.p95_ms is None else f"{status.p95_ms:.0f} ms"
    colour = "green" if (status.availability or 0) >= 0.99 else "red"
    head = Text.from_markup(
        f"[bold]{title}[/]  t+{status.drill_s:6.0f}s  availability [{colour}]{avail}[/]  p95 {p95}  "
        f"alerts: [red]{', '.join(status.firing) or 'none'}[/]"
    )
    events = Table.grid(padding=(0, 1))
    for event in status.recent[-6:]:
        summary = event.data.get("action") or event.data.get("alert") or event.data.get("kind") or ""
        events.add_row(f"t+{event.offset_s:6.0f}s", event.source.value, Text(terminal(event.kind)), Text(terminal(summary)))
    return Group(head, events)


def _stack_for(scenario, name: str, root: Path | None,  # type: ignore[no-untyped-def]
               kind: str | None = None) -> tuple[Stack, bool]:
    """The stack to drill on: started with the scenario's settings, or an existing one that has them."""
    wanted = load_config(None, scenario.stack.overrides())
    stack = open_stack(name, root, kind, wanted)
    if not stack.is_up():
        with console.status(f"bringing stack '{name}' up for {scenario.id} ..."):
            stack.up()
        return stack, True
    have = stack.settings()
    mismatched = [key for key, want, got in (
        ("db.max_connections", wanted.db.max_connections, have.db.max_connections),
        ("web.access_mode", wanted.web.access_mode, have.web.access_mode),
        ("web.workers", wanted.web.workers, have.web.workers),
        ("web.threads", wanted.web.threads, have.web.threads),
        ("proxy.enabled", wanted.proxy.enabled, have.proxy.enabled),
        ("loadgen.enabled", wanted.loadgen.enabled, have.loadgen.enabled),
    ) if want != got]
    if mismatched:
        raise UsageError(
            f"stack '{name}' is up with other settings than {scenario.id} needs ({', '.join(mismatched)}); "
            f"`gameday down --name {name}` first, or drill on another --name"
        )
    return stack, False


@click.command()
@click.argument("scenario_ref", metavar="SCENARIO", shell_complete=scenario_ids)
@click.option("--team", default="team", show_default=True, help="Team name recorded with the run.")
@click.option("--autopilot", "responder", flag_value="autopilot", help="Let the scripted runbook-follower respond.")
@click.option("--wrong-turns", "responder", flag_value="wrong_turns", help="Replay the classic mistakes.")
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=1.0, show_default=True,
              help="Compress drill time (10 = ten times faster).")
@click.option("--keep-stack", is_flag=True, help="Leave a stack the drill started running afterwards.")
@click.option("--quiet", is_flag=True, help="No live view; print the outcome only.")
@click.option("--steady-timeout", type=click.FloatRange(1, 3600), default=30.0, show_default=True,
              help="Seconds to wait for the steady state before refusing to start.")
@click.option("--stack", "kind", type=click.Choice(KINDS), default=None,
              help="Where to start Arcade when no stack runs under --name: local (default) or compose.")
@click.option("--console", "with_console", is_flag=True,
              help="Also serve the web console (`gameday console`) for the facilitator and the team; it keeps "
                   "serving after the drill for the debrief (stop it with `gameday console --stop`).")
@token_options
@click.option("--lobby", is_flag=True,
              help="Open a lobby first: the team reads the story while baseline traffic runs; the clock starts "
                   "when the facilitator says so (the console's Start button, or `gameday start`).")
@click.option("--start-after", type=Duration(), default=None, metavar="DURATION",
              help="With or without --lobby: start the clock by itself this long after the lobby opens (90s, 5m).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None,
              help="Play the variant of this seed, for a scenario that declares `variants:` (what differs between "
                   "teams); the seed is recorded with the run, so the same seed replays the same faults. Default: "
                   "the scenario as written.")
@stack_options
def drill(scenario_ref: str, team: str, responder: str | None, speed: float, keep_stack: bool, quiet: bool,
          steady_timeout: float, kind: str | None, with_console: bool, token_file: Path | None,
          show_team_token: bool, lobby: bool, start_after: float | None, seed: int | None, name: str,
          root: Path | None) -> None:
    """Run a scenario: check the steady state, inject its faults on schedule, record everything.

    With people responding, the drill ends when the team declares the incident resolved (`gameday
    resolve`) and the fix holds through the scenario's relapse window ("resolved"), or does not
    ("resolved too early"), or at the time limit."""
    scenario, text = CATALOG.load(CATALOG.resolve(scenario_ref), seed=seed)
    if (token_file is not None or show_team_token) and not with_console:
        raise UsageError("--token-file and --show-team-token are for the console: add --console")
    web = _console(name, root, token_file, show_team_token) if with_console else None  # stopped on every path
    stack, started_here = _stack_for(scenario, name, root, kind)
    try:
        options = DrillOptions(team=team, speed=speed, responder=responder, actor=responder or getpass.getuser(),
                               steady_timeout_s=steady_timeout, lobby=lobby, start_after_s=start_after)
        if (lobby or start_after is not None) and not quiet:
            console.print(f"lobby: the clock starts when the facilitator says so (`gameday start --name {name}`"
                          + (", or the console's Start button" if with_console else "")
                          + (f"), or by itself after {start_after:.0f} s" if start_after is not None else ")"),
                          soft_wrap=True)
        if not quiet:
            console.print(Text(terminal(scenario.title), style="bold"))
            console.print(Text(terminal(" ".join(scenario.story.told.split()))), soft_wrap=True)
            console.print()
        live = Live(console=console, refresh_per_second=4, transient=False) if not quiet else None
        run = Drill(scenario, text, stack, options,
                    on_status=(lambda st: live.update(_render(st, scenario.id))) if live else None)
        install_signal_handlers(run)
        if live:
            with live:
                result = run.run()
        else:
            result = run.run()
    finally:
        if started_here and not keep_stack:
            stack.down()
    if not quiet:
        console.print()
        _print_timeline(result.run_dir)
    colour = {"recovered": "green", "resolved": "green", "resolved_too_early": "yellow", "time_limit": "red",
              "halted": "yellow"}.get(result.outcome, "red")
    console.print(
        f"[{colour}]{result.outcome.replace('_', ' ')}[/] after {result.drill_seconds:.0f} drill s ({result.real_seconds:.0f} s real); "
        f"{result.events} events in {result.run_dir}"
    )
    # --- score card and reports (lab.report) ---
    from lab.report.cli import after_drill

    after_drill(result.run_dir)
    if web is not None:  # the drill ran: the console outlives it for the debrief
        web.detach()
        url = web.info.get("url", "")
        console.print(f"The console keeps serving the debrief at {url} (History, the report: "
                      f"{url}runs/{result.run_id}/report); stop it with `gameday console --stop --name {name}` "
                      f"or `gameday down --name {name}`.", soft_wrap=True)


def _console(name: str, root: Path | None, token_file: Path | None, show_team_token: bool) -> ConsoleProcess:
    """`gameday console` for this stack, in a child process: stopped if the drill does not run (refused,
    failed), left serving for the debrief once it has. This terminal gets the facilitator's token (or
    --token-file does); the team token only with --show-team-token (it is in console.json, owner only)."""
    from lab.console.info import banner, info_path, write_token_file
    from lab.console.server import ConsoleProcess
    from lab.stack.state import default_root

    base = (root or default_root()).absolute()
    if token_file is not None:
        token_file = token_file.absolute()
        write_token_file(token_file, "")  # refused before anything starts when it cannot be written
    web: ConsoleProcess = click.get_current_context().with_resource(ConsoleProcess(name, base))
    if token_file is not None:
        write_token_file(token_file, str(web.info["facilitator_token"]))
    for line in banner(web.info, show_team_token=show_team_token, token_file=token_file,
                       info_file=info_path(base, name)):
        console.print(line, soft_wrap=True)
    return web


def _print_timeline(run_dir: Path) -> None:
    from lab.output import print_table
    from lab.timeline.store import TimelineStore

    rows = []
    for event in TimelineStore(run_dir / rundir.EVENTS).read():
        data = event.data
        detail = data.get("alert") or data.get("step") or data.get("text") or data.get("outcome") or ""
        if event.kind.startswith("action.") and isinstance(data.get("result"), dict):
            detail = ", ".join(f"{k}={v}" for k, v in data["result"].items() if not isinstance(v, (list, dict)))
        rows.append((f"{event.offset_s:7.0f}", event.source.value, event.kind, str(detail)[:70]))
    print_table("what happened", ("t+ (drill s)", "source", "event", "detail"), rows)


@click.command()
@stack_options
def start(name: str, root: Path | None) -> None:
    """Start the clock of the drill waiting in its lobby on stack NAME (`gameday drill --lobby`)."""
    from lab.timeline.recorder import drill_marker, request_start

    stack = stack_named(name, root)
    info = request_start(stack, getpass.getuser())
    if not procs.wait_until(lambda: (drill_marker(stack) or {}).get("phase") != "lobby", 10.0, 0.05):
        raise UsageError(f"the drill (pid {info['pid']}) did not leave its lobby within 10 s; "
                         f"`gameday halt --name {name}` stops it")
    console.print(f"drill {info['run_id']} started: the clock runs")


@click.command()
@stack_options
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the drill to stop.")
@click.option("--all", "every", is_flag=True,
              help="Emergency stop: every drill on every stack under the run root is signalled and every active "
                   "fault of every stack reverted at once (not waiting for the drills); who pressed it is logged "
                   "on each drill's timeline. --name is ignored.")
def halt(name: str, root: Path | None, timeout: float, every: bool) -> None:
    """Stop the drill running on a stack: every active fault is reverted (--all: on every stack)."""
    from lab.timeline.recorder import drill_marker

    if every:
        _halt_all(root, timeout)
        return
    stack = stack_named(name, root)
    marker = stack.run_dir / rundir.DRILL_MARKER
    info = drill_marker(stack)
    if not info:
        if stack.is_up():
            from lab.faults import engine

            reverted = engine.revert_all(stack)
            console.print(f"no drill running on '{name}'; reverted {len(reverted)} leftover fault(s)")
            return
        raise UsageError(f"no drill is running on stack '{name}'")
    started = time.monotonic()
    os.kill(int(info["pid"]), signal.SIGTERM)
    if not procs.wait_until(lambda: not marker.exists(), timeout, 0.05):
        raise UsageError(f"the drill (pid {info['pid']}) did not stop within {timeout:.0f} s; `gameday recover` cleans up")
    console.print(f"drill {info['run_id']} halted in {time.monotonic() - started:.2f} s; faults reverted")


def _halt_all(root: Path | None, timeout: float) -> None:
    """`halt --all`: one line per stack; exit 1 only when a fault could not be reverted."""
    import socket

    from lab.runner.halt_all import halt_everything
    from lab.stack.state import default_root

    base = (root or default_root()).absolute()
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    started = time.monotonic()
    stops = halt_everything(base, who)
    took = time.monotonic() - started
    for stop in stops:
        console.print(stop.line(), soft_wrap=True)
    reverted = sum(len(s.reverted) for s in stops)
    console.print(f"emergency stop by {who}: {len(stops)} stack(s), {sum(1 for s in stops if s.drill)} drill(s) "
                  f"signalled, {reverted} fault(s) reverted in {took:.2f} s", soft_wrap=True)
    failed = [s for s in stops if s.error]
    pids = [int(s.drill["pid"]) for s in stops if s.drill]
    if pids and not procs.wait_until(lambda: not any(procs.alive(p) for p in pids), timeout, 0.05):
        console.print(f"drills still stopping after {timeout:.0f} s (pids "
                      f"{', '.join(str(p) for p in pids if procs.alive(p))}); their faults are already reverted")
    if failed:
        from lab.faults.base import FaultError

        raise FaultError("; ".join(f"stack '{s.name}': {s.error}" for s in failed))
