"""Shell completion through click's own mechanism: `gameday completion bash|zsh|fish` prints the
script; the shell then calls `gameday` back with _GAMEDAY_COMPLETE set, and click answers from the
commands, options and the callbacks below.

    scenario_ids   drill SCENARIO, verify [SCENARIO]...        the catalog's scenarios/*.yaml
    stack_names    --name of every command acting on a stack   stacks under the run root
    run_ids        timeline, score, report [RUN]               runs under <root>/runs
    fault_kinds    inject KIND                                 lab.faults.FAULTS
    active_faults  revert FAULT_ID                             the stack's fault journal
    (actions and commands are click subcommands: click completes them by itself)

Callbacks read only names (file names, dict keys): a <TAB> must answer at once.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from click.shell_completion import CompletionItem, get_completion_class

PROG = "gameday"
COMPLETE_VAR = "_GAMEDAY_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def _root(ctx: click.Context) -> Path:
    from lab.stack.state import default_root

    given = ctx.params.get("root") or os.environ.get("GAMEDAY_ROOT")
    return Path(given) if given else default_root()


def _matching(names: list[str], incomplete: str) -> list[CompletionItem]:
    return [CompletionItem(name) for name in names if name.startswith(incomplete)]


def scenario_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The catalog's scenario ids; a path-looking word is left to the shell's file completion."""
    if "/" in incomplete or incomplete.startswith("."):
        return [CompletionItem(incomplete, type="file")]
    from lab.catalog import CATALOG

    return _matching([p.stem for p in CATALOG.scenario_files()], incomplete)


def stack_names(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Stacks under the run root (--root, $GAMEDAY_ROOT or .gameday)."""
    from lab.stack.open import all_stacks

    return _matching(all_stacks(_root(ctx)), incomplete)


def run_ids(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Run ids under <root>/runs, newest first."""
    from lab.timeline.rundir import list_runs

    return _matching([p.name for p in reversed(list_runs(_root(ctx)))], incomplete)


def fault_kinds(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The fault library's kinds."""
    from lab.faults import FAULTS

    return [CompletionItem(kind, help=fault.summary) for kind, fault in FAULTS.items() if kind.startswith(incomplete)]


def active_faults(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """The faults the journal of stack --name (as typed so far, else "default") says are active."""
    from lab.faults.journal import JOURNAL, FaultJournal

    name = ctx.params.get("name") or "default"
    active = FaultJournal(_root(ctx) / name / JOURNAL).active()
    return [CompletionItem(fault_id, help=a.kind) for fault_id, a in active.items() if fault_id.startswith(incomplete)]


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the completion script for SHELL: commands, options, scenario ids, stack names, runs,
    fault kinds and actions complete on <TAB>.

    \b
      bash:  eval "$(gameday completion bash)"     (in ~/.bashrc)
      zsh:   eval "$(gameday completion zsh)"      (in ~/.zshrc)
      fish:  gameday completion fish | source      (in ~/.config/fish/config.fish)
    """
    from lab.cli import cli

    cls = get_completion_class(shell)
    assert cls is not None  # every name in SHELLS is one click ships
    click.echo(cls(cli, {}, PROG, COMPLETE_VAR).source())
