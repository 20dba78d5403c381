"""What an event amounts to, whatever the channel it came through (pure: no clock, file or socket).

    action.set-db-setting {name: max_connections, value: "8000"}   toolbox, console ─┐
    shell.command "psql -c 'ALTER SYSTEM SET max_connections = 8000'"   (classified) ─┼─▶ Act("set-db-setting",
    db.setting_changed {name: max_connections, value: "8000"}             (observer) ─┘      {name, value}, channel)

The scorer compares runbook rules with acts, so a rule is written once and holds for every
channel: the same harmful act costs the same typed, clicked or done by hand. Acts are toolbox
action names, plus two that only the shell or the observers see (`destructive-sql`, `kill-worker`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lab.core import shell
from lab.core.timeline import Event, Source

READS = frozenset({"status", "logs", "inspect-db", "inspect-web", "check-network"})  # acts that change nothing


@dataclass(frozen=True)
class Act:
    """A canonical act: the toolbox action (or shell-only act) and its arguments, and its channel."""

    action: str
    args: Mapping[str, Any] = field(default_factory=dict)
    channel: str = "toolbox"  # "toolbox" (CLI or console), "shell", "observer"

    @property
    def changes(self) -> bool:
        """Whether the act changes the system (anything but a read)."""
        return self.action not in READS


def _settings(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return "set-db-setting", {"name": data.get("name"), "value": data.get("value")}


# observed kind -> (act, its arguments from the observation)
OBSERVED: dict[str, Callable[[Mapping[str, Any]], tuple[str, dict[str, Any]]]] = {
    "db.restarted": lambda d: ("restart", {"service": "db"}),
    "web.restarted": lambda d: ("restart", {"service": "web"}),
    "web.scaled": lambda d: ("scale-web", {"workers": d.get("after")}),
    "db.connections_terminated": lambda d: ("terminate-idle-connections", {}),
    "db.setting_changed": _settings,
}


def kinds_of(action: str) -> tuple[str, ...]:
    """Event kinds other than `action.<name>` that can amount to `action`."""
    observed = tuple(kind for kind, make in OBSERVED.items() if make({})[0] == action)
    return (*observed, "shell.command")


@lru_cache(maxsize=4096)
def _classified(command: str) -> shell.Classified | None:
    try:
        return shell.classify(command)
    except Exception:  # a classifier must never stop a score: an odd line stays a plain command
        return None


def act_of(event: Event) -> Act | None:
    """The act an event amounts to, or None (words, alerts, the lab's own events, unknown commands)."""
    kind, data = event.kind, event.data
    if kind.startswith("action."):
        args = data.get("args")
        return Act(kind[len("action."):], args if isinstance(args, dict) else {},
                   "shell" if data.get("via") == "shell" else "toolbox")
    if kind == "shell.command":
        found = _classified(str(data.get("command") or ""))
        return Act(found.action, dict(found.args), "shell") if found is not None else None
    make = OBSERVED.get(kind)
    if make is not None and event.source is Source.OBSERVER:
        action, args = make(data)
        return Act(action, args, "observer")
    return None
