"""The one stack interface every mode implements (`local` processes now, `compose` later).

    Stack ── up() / down() / status()
      └── service(name) -> Service ── restart, stop, start, pause, resume, logs
          scale_web(n)    sql(query)   (admin SQL through a reserved superuser slot)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ServiceStatus:
    """One row of `gameday status`."""

    name: str
    pid: int | None
    address: str
    health: str  # "healthy", "unhealthy: <why>", "paused", "stopped"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StackStatus:
    """What `gameday status` shows for one stack."""

    name: str
    mode: str
    services: list[ServiceStatus]
    db_connections_used: int | None
    db_max_connections: int | None
    urls: dict[str, str]

    @property
    def healthy(self) -> bool:
        return all(s.health == "healthy" for s in self.services)


class Service(Protocol):
    """Handle on one service of a running stack."""

    name: str

    def restart(self) -> None: ...
    def stop(self) -> None: ...
    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def logs(self, lines: int = 50) -> str: ...


class Stack(Protocol):
    """Where Arcade runs; every mode implements this."""

    name: str
    services: tuple[str, ...]

    def up(self) -> StackStatus: ...
    def down(self, purge: bool = False) -> None: ...
    def status(self) -> StackStatus: ...
    def service(self, name: str) -> Service: ...
    def scale_web(self, workers: int) -> int: ...
    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
