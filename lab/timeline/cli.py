"""`gameday timeline [RUN]`: a run's events, coloured by source, with drill-relative times."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from lab.completion import run_ids
from lab.core.safe_text import terminal
from lab.core.timeline import Event, Source
from lab.output import colour_wanted
from lab.stack.cli import stack_named, stack_options
from lab.stack.state import default_root
from lab.timeline import rundir
from lab.timeline.store import TimelineStore

COLOURS = {Source.RUNNER: "cyan", Source.MONITOR: "red", Source.TEAM: "green", Source.OBSERVER: "yellow",
           Source.FACILITATOR: "magenta"}


def summary(event: Event) -> str:
    """One short line of what an event says."""
    d = event.data
    if d.get("via") == "shell":
        return f"$ {d.get('command')}  (exit {d.get('exit_code')}, {d.get('duration_s')} s)"
    if event.kind.startswith("action."):
        args = d.get("args") or {}
        shown = " ".join(f"{k}={v}" for k, v in args.items())
        result = d.get("result") or {}
        brief = ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, (list, dict)))
        return f"{shown} -> {brief}".strip(" ->") if d.get("ok", True) else f"{shown} FAILED: {d.get('error')}"
    for key in ("text", "alert", "step", "outcome", "team", "id", "command"):
        if key in d:
            return str(d[key])
    args = d.get("args") or {}
    return " ".join(f"{k}={v}" for k, v in args.items())


def line(event: Event, colour: bool = True) -> str:
    """One event as a terminal line (ANSI colour by source when `colour`); what people wrote is shown
    with its control characters made visible (lab.core.safe_text), never obeyed by the terminal."""
    source = f"{event.source.value:<11}"
    if colour:
        source = click.style(source, fg=COLOURS[event.source])
    return f"t+{event.offset_s:8.1f}s  {source} {terminal(event.kind):<34} {terminal(event.actor):<10} {terminal(summary(event))}"


@click.command()
@click.argument("run_ref", required=False, metavar="[RUN]", shell_complete=run_ids)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
              help="Run root [default: .gameday, or $GAMEDAY_ROOT].")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until the drill ends (Ctrl-C stops).")
@click.option("--json", "as_json", is_flag=True,
              help="One JSON event per line, as stored (JSON Lines; schema: lab/schemas/event.json).")
@click.option("--source", "sources", multiple=True, type=click.Choice([s.value for s in Source]), help="Only these sources.")
@click.option("--kind", "kinds", multiple=True, metavar="PREFIX", help="Only kinds starting with PREFIX (e.g. action., alert.).")
def timeline(run_ref: str | None, root: Path | None, follow: bool, as_json: bool, sources: tuple[str, ...],
             kinds: tuple[str, ...]) -> None:
    """Show a run's timeline (the latest run by default)."""
    run_dir = rundir.resolve_run(run_ref, root or default_root())
    store = TimelineStore(run_dir / rundir.EVENTS)
    shown = 0

    def keep(event: Event) -> bool:
        return (not sources or event.source.value in sources) and (not kinds or event.kind.startswith(kinds))

    colour = colour_wanted()
    while True:
        events = store.read()
        batch = [e for e in events[shown:] if keep(e)]
        text = "\n".join(e.to_json() if as_json else line(e, colour) for e in batch)
        if text:
            sys.stdout.write(text + "\n")  # one write: 100,000 events render in well under a second
            sys.stdout.flush()
        shown = len(events)
        if not follow or (events and events[-1].kind == "drill.ended"):
            return
        time.sleep(0.25)


@click.command()
@stack_options
@click.option("--actor", default=None, help="Who types (default: your login name).")
def shell(name: str, root: Path | None, actor: str | None) -> None:
    """Open your shell with the stack's connection settings; every command typed is recorded.

    PGHOST/PGPORT/PGUSER/PGDATABASE reach the DB through the superuser's reserved slot, so
    `psql` works even while the site's connections are exhausted; ARCADE_URL and TOXIPROXY_URL
    name the other services. Commands the lab recognises (psql on pg_stat_activity, pg_ctl
    restart, docker restart, curl $ARCADE_URL, ...) are recorded as the action they amount to.
    """
    import getpass

    from lab.actions.perform import mark_in_flight
    from lab.timeline.recorder import active_drill, record_team
    from lab.timeline.shell import RecordedShell, shell_env

    who = actor or getpass.getuser()
    stack = stack_named(name, root)
    drill = active_drill(stack)  # no drill: one-line error, nothing opened, nothing written
    env = shell_env(stack, who)
    record_team(drill, "shell.opened", who, {"stack": stack.name})
    lost: list[str] = []

    def record(kind: str, data: dict) -> None:  # type: ignore[type-arg]
        try:
            record_team(active_drill(stack), kind, who, data)
        except Exception as exc:  # the drill ended while the shell stayed open
            if not lost:
                click.echo(f"gameday: not recorded any more ({exc})", err=True)
            lost.append(data.get("command", ""))

    def mark(action: str, args: dict) -> Callable[[], None]:  # type: ignore[type-arg]
        marker = mark_in_flight(stack, action, args, via="shell")
        return (lambda: marker.unlink(missing_ok=True)) if marker is not None else (lambda: None)

    click.echo(f"gameday: recording commands on run {drill.run_id} as {who}; `exit` to leave", err=True)
    code = RecordedShell(env, record, mark=mark).run()
    try:
        record_team(active_drill(stack), "shell.closed", who, {"exit_code": code, "not_recorded": len(lost)})
    except Exception:
        pass
    sys.exit(code)
