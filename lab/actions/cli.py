"""`gameday act ACTION ...` and the words of an incident (`ack`, `note`, `role`, `update`,
`escalate`, `resolve`): run for real against the stack and recorded on the running drill's
timeline with actor, arguments, result and duration. No drill running: an error, nothing written.
"""

from __future__ import annotations

import getpass
import json
import shlex
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from lab.core.safe_text import terminal
from lab.output import stdout_console

from lab.actions import ACTIONS
from lab.actions.base import Action, ActionContext
from lab.actions.perform import check, perform
from lab.stack.cli import stack_named, stack_options
from lab.timeline.recorder import active_drill, record_team

console = stdout_console()

# Arguments given by position on the command line; every other field is an --option.
POSITIONAL: dict[str, tuple[str, ...]] = {
    "logs": ("service",),
    "scale-web": ("workers",),
    "restart": ("service",),
    "kill-query": ("pid",),
    "shed-load": ("percent",),
    "note": ("text",),
    "role": ("role", "name"),
    "update": ("text",),
    "escalate": ("team",),
    "set-db-setting": ("name", "value"),
    "disable-feature": ("flag",),
}


def actor_option(fn: click.Command) -> click.Command:
    return click.option("--actor", default=getpass.getuser, show_default="your login name",
                        help="Who acts (several responders can share a drill).")(fn)


def _act(action_name: str, args: dict[str, Any], name: str, root: Path | None, actor: str) -> None:
    stack = stack_named(name, root)
    drill = active_drill(stack)  # no drill: UsageError, nothing runs, nothing is written
    check(action_name, args)
    done = perform(action_name, args, ActionContext(stack, actor, drill.speed))
    event = record_team(drill, done.kind, actor, done.data)
    colour = "green" if done.ok else "red"
    console.print(f"[{colour}]{action_name}[/] by {escape(terminal(actor))} at t+{event.offset_s:.0f}s (event {event.id})")
    if done.data.get("result"):
        console.print_json(json.dumps(done.data["result"], default=str))
    if not done.ok:
        console.print(f"[red]failed:[/] {escape(terminal(done.data.get('error')))}")


def _option_name(field: str) -> str:
    return "--" + field.removesuffix("_s").replace("_", "-")


def example_command(action: Action) -> str:
    """The command line that runs an action with its example arguments."""
    words = ["gameday", *([] if action.category == "comms" else ["act"]), action.name]
    positional = POSITIONAL.get(action.name, ())
    shown = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in action.example.items()}
    words += [shlex.quote(shown[k]) for k in positional if k in shown]
    for key, value in shown.items():
        if key not in positional:
            words += [_option_name(key), shlex.quote(value)]
    return " ".join(words)


def _command(action: Action) -> click.Command:
    """A click command for one action, its fields as arguments and options."""
    params: list[click.Parameter] = []
    positional = POSITIONAL.get(action.name, ())
    for field_name, field in action.args.model_fields.items():
        dest = f"arg_{field_name}"  # kept apart from the stack's own --name and --root
        if field_name in positional:
            params.append(click.Argument([dest], metavar=field_name.upper()))
        else:
            params.append(click.Option([_option_name(field_name), dest], default=None,
                                       help=field.description or None))

    def callback(name: str, root: Path | None, actor: str, **values: Any) -> None:
        args = {k.removeprefix("arg_"): v for k, v in values.items() if v is not None}
        _act(action.name, args, name, root, actor)

    command = click.Command(action.name, params=params, callback=callback,
                            help=action.summary[0].upper() + action.summary[1:] + ".",
                            epilog=f"\b\nExample:\n  {example_command(action)}")
    return stack_options(actor_option(command))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def act() -> None:
    """Run a responder tool against the stack; recorded on the drill's timeline."""


for _action in ACTIONS.values():
    if _action.category != "comms":
        act.add_command(_command(_action))

ack = _command(ACTIONS["ack"])
class _NoteCommand(click.Command):
    """`gameday note`, whose help lists the hypotheses the running drill's runbook knows (the right
    causes mixed with the usual wrong ones, in alphabetical order), or every runbook's."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        where, tags = hypotheses_offered(ctx.params.get("name") or "default", ctx.params.get("root"))
        with formatter.section(f"Hypotheses ({where})"):
            line = ""
            for word in [*tags, ""] if tags else ["none", ""]:  # whole tags per line (no break at a hyphen)
                if word == "" or len(line) + len(word) + 2 > 72:
                    formatter.write(" " * formatter.current_indent + line.rstrip(", ") + "\n")
                    line = ""
                line += f"{word}, " if word else ""
            formatter.write_paragraph()
            formatter.write_text("Tag a note with one (--hypothesis), or say it in your own words: the scorer reads "
                                 "the usual phrasings, and the facilitator can accept what it does not know.")


def hypotheses_offered(name: str, root: Path | None) -> tuple[str, list[str]]:
    """(where the list comes from, the hypothesis tags): the drill running on stack `name`, else
    every runbook of the catalog. Never fails: help must print."""
    from lab.catalog import CATALOG
    from lab.timeline.recorder import drill_marker

    try:
        info = drill_marker(stack_named(name, root)) or {}
        if info.get("run_dir"):
            run_dir = Path(str(info["run_dir"]))
            scenario, _ = CATALOG.load(run_dir / "scenario.yaml")
            runbook = CATALOG.runbook(scenario.runbook, near=run_dir / "scenario.yaml")
            return f"the drill on '{name}'", sorted(h.id for h in runbook.vocabulary())
    except Exception:  # no readable drill: the catalog's list
        pass
    tags: set[str] = set()
    for path in sorted(CATALOG.runbook_dir.glob("*.md")):
        try:
            tags.update(h.id for h in CATALOG.runbook(path.stem).vocabulary())
        except Exception:
            continue
    return "every runbook", sorted(tags)


note = _command(ACTIONS["note"])
note.__class__ = _NoteCommand
role = _command(ACTIONS["role"])
update = _command(ACTIONS["update"])
escalate = _command(ACTIONS["escalate"])
resolve = _command(ACTIONS["resolve"])
