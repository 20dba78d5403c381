"""Open a stack by name: the one place that knows which kinds of stack there are.

    open_stack(name, root)                      the kind its state file records (local by default)
    open_stack(name, root, "compose", config)   a stack of that kind, to start with `up()`

Every command, the runner, the faults, the actions and the console get their stack from here,
typed as the `Stack` protocol, so each works on every kind alike.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lab.errors import StackExistsError, UsageError
from lab.stack.base import Stack
from lab.stack.config import StackConfig
from lab.stack.state import StackState, check_name, default_root



class StackKind(Protocol):
    """What KIND_CLASSES names: a class that makes a Stack."""

    def __call__(self, name: str = "default", root: Path | None = None,
                 config: StackConfig | None = None) -> Stack: ...


if TYPE_CHECKING:  # mypy checks here that every kind satisfies the Stack protocol
    from lab.stack.compose.stack import ComposeStack
    from lab.stack.local.stack import LocalStack

    _KINDS_CONFORM: tuple[StackKind, ...] = (LocalStack, ComposeStack)

# kind -> "module:class"; a new kind is one line here (and passes tests/stack/test_conformance.py)
KIND_CLASSES = {
    "local": "lab.stack.local.stack:LocalStack",
    "compose": "lab.stack.compose.stack:ComposeStack",
}
KINDS = tuple(KIND_CLASSES)


def recorded_kind(name: str, root: Path | None = None) -> str | None:
    """The kind of stack the state file under `root/name` describes, if there is one."""
    base = Path(root) if root is not None else default_root()
    try:
        run_dir = base / check_name(name)
        state = StackState.load(run_dir / "state.json")
    except UsageError:
        return None
    if state is not None:
        return state.mode
    if (run_dir / "secrets.json").exists():  # a compose stack downed with --keep-data: its volume remains
        return "compose"
    return None


def stack_class(kind: str) -> StackKind:
    """The class of a kind of stack (imported only when used: compose needs the Docker SDK)."""
    if kind not in KIND_CLASSES:
        raise UsageError(f"--stack {kind!r}: unknown kind of stack; valid: {', '.join(KINDS)}")
    module, attr = KIND_CLASSES[kind].split(":")
    cls: StackKind = getattr(importlib.import_module(module), attr)
    return cls


def open_stack(name: str = "default", root: Path | None = None, kind: str | None = None,
               config: StackConfig | None = None) -> Stack:
    """A stack of `kind` (None: whatever runs under that name, else local), refusing a kind other
    than the one already up under that name."""
    base = Path(root) if root is not None else default_root()
    recorded = recorded_kind(name, base)
    chosen = kind or recorded or "local"
    if kind is not None and recorded is not None and recorded != kind:
        other = open_stack(name, base, recorded)
        if other.is_up():
            raise StackExistsError(f"stack '{name}' is already up on the {recorded} stack; "
                                   f"`gameday down --name {name}` stops it, or choose another --name")
    return stack_class(chosen)(name, base, config)


def all_stacks(root: Path | None = None) -> list[str]:
    """Names of the stacks, of any kind, that have a state file under the run root (or, compose
    stacks downed with --keep-data, a database volume)."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        return []
    return sorted({p.parent.name for pattern in ("*/state.json", "*/secrets.json") for p in base.glob(pattern)})
