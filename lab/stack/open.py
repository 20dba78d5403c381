"""Open a stack by name: the one place that knows which kinds of stack there are.

    open_stack(name, root)                      the kind its state file records (local by default)
    open_stack(name, root, "compose", config)   a stack of that kind, to start with `up()`

Every command, the runner, the faults and the actions get their stack from here, so each works
on the embedded stack and on Compose alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.errors import StackExistsError, UsageError
from lab.stack.config import StackConfig
from lab.stack.state import StackState, check_name, default_root

KINDS = ("local", "compose")


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


def open_stack(name: str = "default", root: Path | None = None, kind: str | None = None,
               config: StackConfig | None = None) -> Any:
    """A LocalStack or a ComposeStack (same methods); `kind` None means: whatever runs under that name."""
    base = Path(root) if root is not None else default_root()
    recorded = recorded_kind(name, base)
    chosen = kind or recorded or "local"
    if kind is not None and recorded is not None and recorded != kind:
        other = open_stack(name, base, recorded)
        if other.is_up():
            raise StackExistsError(f"stack '{name}' is already up on the {recorded} stack; "
                                   f"`gameday down --name {name}` stops it, or choose another --name")
    if chosen == "compose":
        from lab.stack.compose import ComposeStack

        return ComposeStack(name, base, config)
    if chosen == "local":
        from lab.stack.local import LocalStack

        return LocalStack(name, base, config)
    raise UsageError(f"--stack {chosen!r}: unknown kind of stack; valid: {', '.join(KINDS)}")


def all_stacks(root: Path | None = None) -> list[str]:
    """Names of the stacks, of any kind, that have a state file under the run root (or, compose
    stacks downed with --keep-data, a database volume)."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        return []
    return sorted({p.parent.name for pattern in ("*/state.json", "*/secrets.json") for p in base.glob(pattern)})
