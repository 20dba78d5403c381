"""`gameday up | down | status | logs | service | scale | sql`: drive one stack by hand."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.text import Text

from lab.completion import stack_names
from lab.core.safe_text import terminal
from lab.output import is_terminal, print_json, print_table, stdout_console

from lab.stack.base import SERVICES, Stack, StackStatus
from lab.stack.config import load_config
from lab.stack.open import KINDS, all_stacks, open_stack
from lab.stack.state import default_root

console = stdout_console()
err = Console(stderr=True, highlight=False)


F = TypeVar("F", bound=Callable[..., Any])


def stack_options(fn: F) -> F:
    """--name and --root, as every command that acts on one stack takes them."""
    fn = click.option(
        "--root",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="GAMEDAY_ROOT",
        default=None,
        help="Run root holding every stack's directory [default: .gameday, or $GAMEDAY_ROOT].",
    )(fn)
    fn = click.option("--name", "-n", default="default", show_default=True, help="Stack name (one per team).",
                      shell_complete=stack_names)(fn)
    return fn


def stack_named(name: str, root: Path | None) -> Stack:
    """The stack running under that name, whatever its kind (local if none runs)."""
    return open_stack(name, root or default_root())


@click.command()
@stack_options
@click.option("--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help="YAML stack config.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config key, e.g. web.access_mode=per-request.")
@click.option("--stack", "mode", type=click.Choice(KINDS), default="local", show_default=True,
              help="Where Arcade runs: local processes, or containers on a Docker engine (Compose).")
def up(name: str, root: Path | None, config_file: Path | None, overrides: tuple[str, ...], mode: str) -> None:
    """Start a stack (PostgreSQL + Arcade) and wait until it is healthy."""
    config = load_config(config_file, overrides)
    stack = open_stack(name, root or default_root(), mode, config)
    started = time.monotonic()
    with err.status(f"bringing stack '{name}' up ...") as spinner:
        status = stack.up(progress=lambda msg: spinner.update(msg))
    _revert_faults(stack)
    console.print(f"[bold green]stack '{name}' is up[/] in {time.monotonic() - started:.1f} s")
    for label, url in status.urls.items():
        console.print(f"  {label:<9} {url}")
    console.print(f"  stop with: gameday down --name {name}")


def _revert_faults(stack: Stack) -> None:
    """Undo faults the journal says are still active (a crashed drill), before down or after up."""
    from lab.faults import engine

    if not stack.is_up() or not engine.journal_for(stack).active():
        return
    try:
        for active in engine.revert_all(stack):
            err.print(f"reverted fault left active: {active.kind} '{active.fault_id}'")
    except Exception as exc:  # never block `down` on a fault that cannot be undone
        err.print(f"[yellow]warning:[/] {exc}")


@click.command()
@stack_options
@click.option("--all", "every", is_flag=True, help="Stop every stack under the run root.")
@click.option("--purge", is_flag=True, help="Also delete the stack's data and logs.")
@click.option("--keep-data", is_flag=True,
              help="Keep the database for the next `up` (compose removes its volume otherwise; local keeps it anyway).")
def down(name: str, root: Path | None, every: bool, purge: bool, keep_data: bool) -> None:
    """Stop everything a stack started (idempotent)."""
    names = all_stacks(root or default_root()) if every else [name]
    for stack_name in names:
        stack = stack_named(stack_name, root)
        _revert_faults(stack)
        was_up = stack.down(purge=purge, keep_data=keep_data)
        verb = "stopped" if was_up else "was not running"
        console.print(f"stack '{stack_name}' {verb}" + (" (data purged)" if purge else ""))
        from lab.console.info import stop_console

        if stop_console(stack.root, stack_name):  # one left serving the debrief
            console.print(f"console of '{stack_name}' stopped")
    if every and not names:
        console.print("no stacks to stop")


@click.command()
@stack_options
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--stats", "with_stats", is_flag=True,
              help="Also CPU and memory of every service (compose: of every container).")
def status(name: str, root: Path | None, as_json: bool, with_stats: bool) -> None:
    """Show each service's pid, address, health and the DB connections in use."""
    stack = stack_named(name, root)
    st = stack.status()
    stats = stack.stats() if with_stats else None
    if as_json:  # the same exit code as the table: scripts can test it either way
        print_json({**_status_dict(st), **({"stats": stats} if stats is not None else {})})
        sys.exit(0 if st.healthy else 1)
    out = stdout_console()
    if stats is not None:
        for container, figures in sorted(stats.items()):
            out.print(Text(f"  {terminal(container):<36} cpu {figures['cpu_percent']:5.1f} %  "
                           f"memory {figures['mem_mb']:7.1f} MB"))
    rows: list[tuple[str | Text, ...]] = []
    for svc in st.services:
        colour = "green" if svc.health == "healthy" else "yellow" if svc.health == "paused" else "red"
        detail = ", ".join(f"{k}={v}" for k, v in svc.detail.items())
        if svc.name == "db" and st.db_max_connections:
            detail = f"connections {st.db_connections_used}/{st.db_max_connections}"
        rows.append((svc.name, str(svc.pid or "-"), svc.address, Text(svc.health, style=colour), detail))
    print_table(f"stack '{st.name}' ({st.mode})", ("service", "pid", "address", "health", "detail"), rows)
    if st.urls:  # piped: a blank line, then one "label<TAB>url" line each
        out.print("URLs:" if is_terminal() else "")
        print_table("", ("name", "url"), list(st.urls.items()))
    if not st.healthy:
        sys.exit(1)


def _status_dict(st: StackStatus) -> dict[str, object]:
    return {
        "name": st.name,
        "mode": st.mode,
        "healthy": st.healthy,
        "db_connections_used": st.db_connections_used,
        "db_max_connections": st.db_max_connections,
        "services": [
            {"name": s.name, "pid": s.pid, "address": s.address, "health": s.health, **s.detail} for s in st.services
        ],
        "urls": st.urls,
    }


@click.command()
@click.argument("service", type=click.Choice(SERVICES))
@stack_options
@click.option("--lines", "-l", default=50, show_default=True, help="How many lines to show.")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines (Ctrl-C stops).")
def logs(service: str, name: str, root: Path | None, lines: int, follow: bool) -> None:
    """Show a service's log."""
    stack = stack_named(name, root)
    stack.state()  # refuses a stack that is not up
    click.echo(terminal(stack.logs(service, lines), keep="\n\t"))  # a log quotes SQL and requests as sent
    if follow:
        for chunk in stack.follow_logs(service):
            sys.stdout.write(terminal(chunk, keep="\n\t"))
            sys.stdout.flush()


@click.command()
@click.argument("action", type=click.Choice(["restart", "stop", "start", "pause", "resume", "kill"]))
@click.argument("service", type=click.Choice(SERVICES))
@stack_options
def service(action: str, service: str, name: str, root: Path | None) -> None:
    """Restart, stop, start, pause (SIGSTOP; docker pause), resume or kill (SIGKILL) one service."""
    handle = stack_named(name, root).service(service)
    {"restart": handle.restart, "stop": handle.stop, "start": handle.start, "pause": handle.pause,
     "resume": handle.resume, "kill": handle.kill}[action]()
    console.print(f"{service}: {action} done")


@click.command()
@click.argument("service", type=click.Choice(["web"]))
@click.argument("count", type=click.IntRange(1, 64))
@stack_options
def scale(service: str, count: int, name: str, root: Path | None) -> None:
    """Set the number of Arcade worker processes (compose: web containers)."""
    workers = stack_named(name, root).scale_web(count)
    console.print(f"web: {workers} workers")


@click.command()
@click.argument("query")
@stack_options
@click.option("--db", "dbname", default="arcade", show_default=True, help="Database to run it in.")
def sql(query: str, name: str, root: Path | None, dbname: str) -> None:
    """Run admin SQL as the superuser (works while Arcade's connections are exhausted)."""
    import psycopg2

    try:
        rows = stack_named(name, root).sql(query, dbname=dbname)
    except psycopg2.Error as exc:
        raise click.ClickException(str(exc).strip().splitlines()[0]) from None
    for row in rows:  # what the database holds is shown, never obeyed by the terminal (Arcade's players name themselves)
        click.echo("\t".join("" if v is None else terminal(v) for v in row))
