"""The run directory of one stack and its state file (what runs, where, with which pids)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import UsageError
from lab.stack.files import write_atomic

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DEFAULT_ROOT = Path(".gameday")


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise UsageError(
            f"--name {name!r}: use 1-32 lowercase letters, digits, '-' or '_', starting with a letter or digit"
        )
    return name


def default_root() -> Path:
    return Path(os.environ.get("GAMEDAY_ROOT") or DEFAULT_ROOT)


@dataclass
class ServiceState:
    """What the lab knows about one service it started."""

    port: int
    pid: int | None = None
    paused: bool = False
    workers: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class StackState:
    """Contents of `<run dir>/state.json`: written after every change, read by every command."""

    name: str
    mode: str
    config: dict[str, Any]
    services: dict[str, ServiceState]
    sockdir: str
    started_at: float

    @classmethod
    def load(cls, path: Path) -> StackState | None:
        try:
            raw = json.loads(path.read_text())
            raw["services"] = {k: ServiceState(**v) for k, v in raw["services"].items()}
            return cls(**raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) else "not a state file of this version"
            raise UsageError(f"{path}: unreadable stack state ({why}); `gameday down --name {path.parent.name} "
                             "--purge` clears it (stop any of its processes still running by hand)") from None

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=2))  # keeps the services in start order
