"""The one stack interface: what every kind of stack offers, and all the rest of the lab may use.

    Stack ── preflight / up / down / is_up / state / status          lifecycle
      │  ├── service(name) -> Service ── restart stop start pause resume kill logs
      │  ├── scale_web  web_workers  settings  reconfigure  set_disabled_features  enable_pooler
      │  ├── sql (a reserved superuser slot)  admin_target  app_dsn  db_endpoint
      │  └── address  urls  logs  follow_logs  stats  shell_env
      └── capabilities: what a kind truly cannot do, said once (callers never probe with hasattr)

A kind (lab/stack/local, lab/stack/compose) implements every member with the same meaning and
passes the conformance suite (tests/stack/test_conformance.py). Callers are typed against
`Stack`, never against a kind. The names shared by every kind (roles, the database, the
proxies) live here too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from psycopg2.sql import Composable

    from lab.stack.config import StackConfig
    from lab.stack.state import StackState

SUPERUSER = "gameday"  # the lab's admin role: a reserved connection slot, never Arcade's
APP_ROLE = "arcade"  # Arcade's role
APP_DB = "arcade"  # Arcade's database
PROXY_NAME = "postgres"  # the fault proxy's link between Arcade and PostgreSQL
EDGE_NAME = "arcade"  # compose: the fault proxy's link in front of the web containers
SERVICES = ("db", "pooler", "proxy", "web", "loadgen")  # the lab's services, in start order

Progress = Callable[[str], None]


def no_progress(_message: str) -> None:
    """The default progress callback: say nothing."""


@dataclass(frozen=True)
class PgTarget:
    """Where and as whom to reach PostgreSQL as the superuser (host may be a unix socket directory)."""

    host: str
    port: int
    user: str
    dbname: str = "postgres"
    password: str | None = None  # TCP targets (a container's published port); the socket needs none

    def dsn(self, timeout: float, application_name: str = "gameday-monitor") -> str:
        secret = f" password={self.password}" if self.password else ""
        return (f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}{secret} "
                f"connect_timeout={max(2, int(timeout + 0.999))} application_name={application_name}")


@dataclass(frozen=True)
class Capabilities:
    """What a kind of stack can or cannot do; the one place a caller asks (never hasattr)."""

    containers: bool  # its services are containers on a Docker engine (container events, images, docker CLI)
    data_kept_on_down: bool  # `down` keeps the database unless purged (compose: only with keep_data)


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
    mode: str  # the kind of stack ("mode" in `gameday status --json`)
    services: list[ServiceStatus]
    db_connections_used: int | None
    db_max_connections: int | None
    urls: dict[str, str]

    @property
    def healthy(self) -> bool:
        return all(s.health == "healthy" for s in self.services)


@runtime_checkable
class Service(Protocol):
    """Handle on one service of a running stack (every process or container of it)."""

    name: str

    def restart(self) -> None: ...
    def stop(self) -> None: ...
    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def kill(self, signal: str = "SIGKILL") -> None: ...
    def logs(self, lines: int = 50) -> str: ...


@runtime_checkable
class Stack(Protocol):
    """Where Arcade runs: PostgreSQL, [PgBouncer], the fault proxy, Arcade and the load generator."""

    @property
    def kind(self) -> str:
        """"local", "compose", ... (what `gameday status` shows as its mode)."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def name(self) -> str: ...

    @property
    def root(self) -> Path:
        """The run root: every stack's run dir, and runs/, are under it."""
        ...

    @property
    def run_dir(self) -> Path:
        """This stack's own directory under the run root (state, logs, fault journal, drill marker)."""
        ...

    @property
    def services(self) -> tuple[str, ...]:
        """The services this stack runs (or will run), in start order."""
        ...

    # --- lifecycle ---------------------------------------------------------------------------
    def preflight(self) -> None:
        """Refuse, before anything starts, when this kind cannot run here (MissingDependencyError)."""
        ...

    def is_up(self) -> bool: ...
    def up(self, progress: Progress = no_progress) -> StackStatus: ...

    def down(self, purge: bool = False, keep_data: bool = False) -> bool:
        """Stop everything; True if anything ran. `purge` also deletes the run dir, `keep_data`
        keeps the database for the next `up`. Idempotent."""
        ...

    def state(self) -> StackState:
        """The state file with live facts: each service's pid (None when stopped) and paused flag."""
        ...

    def status(self) -> StackStatus: ...

    # --- services and settings ---------------------------------------------------------------
    def service(self, name: str) -> Service: ...
    def scale_web(self, workers: int) -> int: ...
    def web_workers(self) -> list[int]: ...
    def settings(self) -> StackConfig: ...
    def reconfigure(self, overrides: list[str], restart: tuple[str, ...] = ()) -> StackConfig: ...
    def set_disabled_features(self, disabled: list[str]) -> list[str]: ...
    def enable_pooler(self, progress: Progress = no_progress) -> dict[str, Any]: ...

    # --- the database ------------------------------------------------------------------------
    def sql(self, query: str | Composable, params: Sequence[Any] = (),
            dbname: str = APP_DB) -> list[tuple[Any, ...]]: ...
    def admin_target(self, dbname: str = "postgres") -> PgTarget: ...
    def app_dsn(self, via_proxy: bool = True, application_name: str = "arcade") -> str: ...
    def db_endpoint(self) -> int: ...

    # --- where things are, and what they say -------------------------------------------------
    def address(self, service: str) -> str: ...
    def urls(self) -> dict[str, str]: ...
    def logs(self, service: str, lines: int = 50) -> str: ...
    def follow_logs(self, service: str) -> Iterator[str]: ...
    def stats(self) -> dict[str, dict[str, float]]: ...
    def shell_env(self) -> dict[str, str]: ...


class EventStream(Protocol):
    """The Docker engine's event stream: iterate it, close it from another thread to stop."""

    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    def close(self) -> None: ...


class ContainerStack(Stack, Protocol):
    """A stack whose services are containers (capabilities.containers): what container observers read."""

    @property
    def project(self) -> str: ...

    def containers(self, service: str | None = None, running: bool = False) -> list[dict[str, Any]]: ...
    def container_events(self, since: float) -> EventStream: ...


def kill_signal(name: str) -> str:
    """A signal name as `kill` takes it (SIGKILL, SIGTERM, ...), checked."""
    import signal

    wanted = name.upper() if name.upper().startswith("SIG") else f"SIG{name.upper()}"
    try:
        return signal.Signals[wanted].name
    except KeyError:
        from lab.errors import UsageError

        raise UsageError(f"signal {name!r}: unknown; e.g. SIGKILL, SIGTERM, SIGINT") from None


__all__ = ["APP_DB", "APP_ROLE", "Capabilities", "ContainerStack", "EDGE_NAME", "EventStream", "PROXY_NAME",
           "PgTarget", "Progress", "SERVICES", "SUPERUSER", "Service", "ServiceStatus", "Stack", "StackStatus",
           "kill_signal", "no_progress"]
