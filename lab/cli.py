"""`gameday`: the lab's command line. Thin: parse arguments, call the lab, print, map errors to exit codes.

Subcommands are loaded lazily (click's LazyGroup pattern) so `gameday --help` and quick
commands do not pay for importing every part of the lab.
"""

from __future__ import annotations

import importlib
import sys

import click

from lab.errors import LabError

# name -> ("module:attribute" of a click command, one-line help). Grep here to find any command's code.
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("lab.stack.cli:up", "Start a stack (PostgreSQL + Arcade) and wait until it is healthy."),
    "down": ("lab.stack.cli:down", "Stop everything a stack started (idempotent)."),
    "status": ("lab.stack.cli:status", "Show each service's pid, address, health and DB connections."),
    "logs": ("lab.stack.cli:logs", "Show a service's log."),
    "service": ("lab.stack.cli:service", "Restart, stop, start, pause or resume one service."),
    "scale": ("lab.stack.cli:scale", "Set the number of Arcade worker processes."),
    "sql": ("lab.stack.cli:sql", "Run admin SQL as the superuser (works while connections are exhausted)."),
    "validate": ("lab.runner.cli:validate", "Validate scenario files (all of scenarios/ by default)."),
    "list": ("lab.runner.cli:list_scenarios", "List the scenarios: id, title, difficulty, source incident."),
    "drill": ("lab.runner.cli:drill", "Run a scenario against a stack and record what happens."),
    "halt": ("lab.runner.cli:halt", "Stop the running drill; every active fault is reverted."),
    "start": ("lab.runner.cli:start", "Start the clock of a drill waiting in its lobby (drill --lobby)."),
    "event": ("lab.runner.event_cli:event", "Run a game day for several teams: a stack and a variant each, one scoreboard."),
    "verify": ("lab.verify.cli:verify", "Check every scenario still breaks the site and heals (CI; --junit FILE)."),
    "act": ("lab.actions.cli:act", "Run a responder tool (inspect-db, restart, ...); recorded on the timeline."),
    "ack": ("lab.actions.cli:ack", "Acknowledge the alert: someone is on it."),
    "note": ("lab.actions.cli:note", "Write a note on the timeline (--hypothesis TAG for a theory)."),
    "role": ("lab.actions.cli:role", "Name who holds a role: IC, scribe, comms, ops."),
    "update": ("lab.actions.cli:update", "Post a status update (--audience internal|external)."),
    "escalate": ("lab.actions.cli:escalate", "Page another team."),
    "resolve": ("lab.actions.cli:resolve", "Declare the incident resolved."),
    "timeline": ("lab.timeline.cli:timeline", "Show a run's timeline (--follow, --json, filters)."),
    "shell": ("lab.timeline.cli:shell", "Open your shell on the stack; every command typed is recorded."),
    "inject": ("lab.faults.cli:inject", "Inject a fault into a running stack (journaled first)."),
    "revert": ("lab.faults.cli:revert", "Revert one active fault, or all of them."),
    "recover": ("lab.faults.cli:recover", "Revert what the fault journal says is still active."),
    "faults": ("lab.faults.cli:faults", "List fault kinds and the faults active on a stack."),
    "images": ("lab.stack.images_cli:images", "Build or list the images of the Compose stack (--offline: no registry)."),
    "proxy": ("lab.proxy.cli:proxy", "Run the Toxiproxy-compatible fault proxy in the foreground."),
    "load": ("lab.monitor.cli:load", "Show or change the player traffic the load generator sends."),
    "monitor": ("lab.monitor.cli:monitor", "Live view of availability, latency, DB connections and alerts."),
    "score": ("lab.report.cli:score", "Score a drill against its runbook: points, reasons, evidence."),
    "report": ("lab.report.cli:report", "Write a drill's postmortem draft (report.md) and HTML report."),
    "console": ("lab.console.cli:console", "Serve the web console for the facilitator and the team of a drill."),
    "completion": ("lab.completion:completion", "Print the shell completion script (bash, zsh or fish)."),
}

EPILOG = """\b
Output: on a terminal, tables and colour (none when NO_COLOR is set); piped or
redirected, tables are tab-separated rows with whole values. --json on list,
faults, status, timeline, score, verify and load show prints JSON
(docs/json-output.md).

\b
Exit codes:
  0    done (a drill that ran to any outcome, halted included: its score
       says how it went)
  1    something the lab tried failed (a drill refused because the steady
       state did not hold, a service that would not start); a verify check
       failed; status of an unhealthy stack
  2    bad input: arguments, files, config (one line on stderr; nothing changed)
  130  interrupted (Ctrl-C)
  gameday shell exits with the exit code of the shell it opened.

\b
Completion: eval "$(gameday completion bash)"  (or zsh; fish: gameday completion fish | source)
"""


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry[0].split(":")
        command: click.Command = getattr(importlib.import_module(module_name), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List commands from the static table, without importing them."""
        rows = [(name, help_text) for name, (_target, help_text) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def resolve_command(self, ctx, args):  # type: ignore[no-untyped-def]
        name = args[0] if args else None
        if name and name not in COMMANDS and not name.startswith("-"):
            import difflib

            close = difflib.get_close_matches(name, COMMANDS, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise click.UsageError(f"No such command '{name}'.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EPILOG)
@click.version_option(package_name="gameday-lab", prog_name="gameday")
def cli() -> None:
    """gameday: break a real toy site (Arcade on PostgreSQL), record what the team does,
    and score it against the runbook."""


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: LabErrors become one-line messages and their exit codes."""
    try:
        rv = cli.main(args=argv, prog_name="gameday", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # one line, like every other bad input; --help shows usage
        click.echo(f"Error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except LabError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
