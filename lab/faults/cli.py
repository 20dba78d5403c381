"""`gameday inject | revert | recover | faults`: a facilitator's hand on the fault library."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from lab.completion import active_faults, fault_kinds
from lab.core import lease
from lab.core.safe_input import InputInvalid, load_value
from lab.core.safe_text import terminal
from lab.errors import UsageError
from lab.faults import FAULTS, engine
from lab.runner.cli import Duration
from lab.output import is_terminal, print_json, print_table, stdout_console
from lab.stack.cli import stack_named, stack_options

console = stdout_console()


def example_args(params: Mapping[str, Any]) -> str:
    """Parameters as `gameday inject` takes them (KEY=VALUE ...)."""
    return " ".join(f"{key}={value}" for key, value in params.items())


def _examples() -> str:
    lines = [f"  gameday inject {kind} {example_args(fault.example)}".rstrip() for kind, fault in FAULTS.items()]
    return "\b\nOne example per kind (its harm shows quickly):\n" + "\n".join(lines)


def parse_params(items: tuple[str, ...]) -> dict[str, object]:
    """key=value arguments, values read as YAML scalars (numbers, booleans, strings)."""
    params: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{item!r}: fault parameters are KEY=VALUE, e.g. connections=30")
        try:
            params[key] = load_value(raw) if raw else ""
        except InputInvalid as exc:
            raise UsageError(f"{key}=...: {exc}") from None
    return params


@click.command(epilog=_examples())
@click.argument("kind", shell_complete=fault_kinds)
@click.argument("params", nargs=-1, metavar="[KEY=VALUE]...")
@click.option("--id", "fault_id", help="Name this fault instance [default: KIND-N].")
@click.option("--lease", "lease_s", type=Duration(), default=None, metavar="DURATION",
              help="Give the fault a lease (90s, 5m): once it runs out, the stack's watchdog reverts the fault "
                   "by itself (nobody renews a hand-injected fault's lease). [default: none: the fault stays "
                   "until `gameday revert` or `gameday recover`]")
@stack_options
def inject(kind: str, params: tuple[str, ...], fault_id: str | None, lease_s: float | None, name: str,
           root: Path | None) -> None:
    """Inject a fault into a running stack (journaled first; `gameday revert` undoes it)."""
    stack = stack_named(name, root)
    values = parse_params(params)
    engine.check(kind, values)
    if lease_s is not None and lease_s <= 0:
        raise UsageError(f"--lease {lease_s:g}: a lease must be longer than 0 s (leave it out for none)")
    stack.state()  # not up: StackNotFoundError, nothing done
    done = engine.inject(stack, kind, values, fault_id, lease_s=lease_s)
    lease = f"; lease {lease_s:g} s, then the watchdog reverts it" if lease_s is not None and not FAULTS[kind].instant else ""
    console.print(f"injected {kind} as '{done}'" + (" (one-shot)" if FAULTS[kind].instant else "") + lease)


@click.command()
@click.argument("fault_id", required=False, shell_complete=active_faults)
@click.option("--all", "every", is_flag=True, help="Revert every active fault.")
@stack_options
def revert(fault_id: str | None, every: bool, name: str, root: Path | None) -> None:
    """Revert one active fault, or all of them."""
    if not fault_id and not every:
        raise UsageError("name the fault to revert (see `gameday faults`), or pass --all")
    stack = stack_named(name, root)
    stack.state()  # not up: StackNotFoundError, nothing done
    reverted = engine.revert_all(stack) if every else [engine.revert_id(stack, fault_id or "")]
    for active in reverted:
        console.print(f"reverted {active.kind} '{active.fault_id}'")
    if not reverted:
        console.print("no fault was active")


@click.command()
@stack_options
def recover(name: str, root: Path | None) -> None:
    """Revert whatever the fault journal says is still active (after a crash or kill -9)."""
    stack = stack_named(name, root)
    stack.state()  # not up: StackNotFoundError, nothing done
    reverted = engine.revert_all(stack)
    for active in reverted:
        console.print(f"reverted {active.kind} '{active.fault_id}'")
    console.print(f"recovered: {len(reverted)} fault(s) reverted" if reverted else "nothing to recover")


@click.command()
@stack_options
@click.option("--json", "as_json", is_flag=True, help="Kinds and active faults as JSON (schema: lab/schemas/faults.json).")
def faults(name: str, root: Path | None, as_json: bool) -> None:
    """List the fault kinds, and the faults active on a stack.

    Piped, one tab-separated line per kind (kind, what it does, parameters, example), then the
    active faults as lines of "active", id, kind, parameters, lease left."""
    stack = stack_named(name, root)
    now = time.time()
    active = list(engine.journal_for(stack).active().values()) if stack.is_up() else None
    if as_json:
        print_json({
            "kinds": [{"kind": kind, "summary": fault.summary, "instant": fault.instant,
                       "params": {k: v.default for k, v in fault.params.model_fields.items()},
                       "example": dict(fault.example)} for kind, fault in FAULTS.items()],
            "stack": name,
            "stack_up": active is not None,
            "active": [{"fault_id": a.fault_id, "kind": a.kind, "params": a.params,
                        "lease_remaining_s": lease.remaining(a.lease_until, now)} for a in active or []],
        })
        return
    print_table("fault kinds", ("kind", "what it does", "parameters", "example"), [
        (kind, fault.summary, ", ".join(f"{k}={v.default}" for k, v in fault.params.model_fields.items()) or "-",
         example_args(fault.example) or "-") for kind, fault in FAULTS.items()])
    if not is_terminal():
        print_table("", (), [("active", a.fault_id, a.kind, example_args(a.params), _lease_left(a.lease_until, now))
                             for a in active or []])
        return
    if active:
        console.print(f"active on stack '{name}':")
        for a in active:
            console.print(Text(terminal(f"  {a.fault_id}  {a.kind}  {a.params}  ({_lease_left(a.lease_until, now)})")))
    elif active is not None:
        console.print(f"no fault active on stack '{name}'")


def _lease_left(lease_until: float | None, now: float) -> str:
    left = lease.remaining(lease_until, now)
    return "no lease" if left is None else f"lease {left:.1f} s left"
