"""What every kind of stack shares, written once: the run dir, the state file and its lock,
settings, service handles, addresses and URLs, admin SQL, the status skeleton and the pooler switch.

    StackBase ── the shared members of the Stack protocol
       ├── LocalStack    (lab/stack/local)    processes under the run dir
       └── ComposeStack  (lab/stack/compose)  containers of a Compose project

A kind implements the lifecycle (`up`, `down`, `is_up`, `state`, `preflight`, ...) and fills in
the hooks at the bottom (abstract ones must be given; the others have a default).
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import psycopg2

from lab.errors import StackError, StackNotFoundError, UsageError
from lab.stack import health, ports, procs
from lab.stack.base import (
    APP_DB,
    APP_ROLE,
    PROXY_NAME,
    SERVICES,
    Capabilities,
    PgTarget,
    Progress,
    Service,
    ServiceStatus,
    StackStatus,
    no_progress,
)
from lab.stack.config import StackConfig, apply_overrides
from lab.stack.files import write_atomic
from lab.stack.postgres import connect_retrying
from lab.stack.service_config import dsn
from lab.stack.state import ServiceState, StackState, check_name, default_root

if TYPE_CHECKING:
    from psycopg2.sql import Composable

CONNECTIONS_SQL = ("SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
                   " current_setting('max_connections')::int FROM pg_stat_activity")


class StackBase(abc.ABC):
    """One stack of some kind, addressed by name under a run root."""

    kind: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(self, name: str = "default", root: Path | None = None, config: StackConfig | None = None):
        self.name = check_name(name)
        self.root = Path(root) if root is not None else default_root()
        self.run_dir = (self.root / self.name).absolute()
        self.config = config or StackConfig()  # what `up` starts with; a running stack's is settings()
        self.state_path = self.run_dir / "state.json"
        self._state: StackState | None = None

    # --- what runs ---------------------------------------------------------------------------

    @property
    def services(self) -> tuple[str, ...]:
        state = StackState.load(self.state_path)
        return tuple(state.services) if state else self.enabled_services(self.config)

    def enabled_services(self, config: StackConfig) -> tuple[str, ...]:
        """The services a stack of this kind runs with `config`, in start order."""
        on = {"db": True, "pooler": config.pooler.enabled, "proxy": config.proxy.enabled, "web": True,
              "loadgen": config.loadgen.enabled}
        return tuple(name for name in SERVICES if on[name])

    # --- what each kind does its own way -------------------------------------------------------

    @abc.abstractmethod
    def preflight(self) -> None:
        """Refuse, before anything starts, when this kind cannot run here."""

    @abc.abstractmethod
    def is_up(self) -> bool: ...

    @abc.abstractmethod
    def up(self, progress: Progress = no_progress) -> StackStatus: ...

    @abc.abstractmethod
    def down(self, purge: bool = False, keep_data: bool = False) -> bool: ...

    @abc.abstractmethod
    def scale_web(self, workers: int) -> int: ...

    @abc.abstractmethod
    def web_workers(self) -> list[int]:
        """Host pids of Arcade's worker processes."""

    @abc.abstractmethod
    def follow_logs(self, service: str) -> Iterator[str]: ...

    @abc.abstractmethod
    def stats(self) -> dict[str, dict[str, float]]: ...

    def up_hint(self) -> str:
        kind = "" if self.kind == "local" else f" --stack {self.kind}"
        return f"`gameday up{kind} --name {self.name}` starts it"

    def _recorded(self) -> StackState | None:
        """The state file if there is a readable one (an unreadable one: as if none, for `is_up`)."""
        try:
            return StackState.load(self.state_path)
        except UsageError:
            return None

    def _read(self) -> StackState:
        """The state file as it is now (nothing asked of processes or the engine);
        StackNotFoundError when this stack is not up."""
        state = StackState.load(self.state_path)
        if state is None or state.mode != self.kind:
            raise StackNotFoundError(f"stack '{self.name}' is not up; {self.up_hint()}")
        return state

    def _load(self) -> StackState:
        """The state file, kept as the one this object changes and saves (`_save`)."""
        self._state = self._read()
        return self._state

    def _save(self) -> None:
        assert self._state is not None
        self._state.save(self.state_path)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """One command at a time changes a stack (up, down, scale, reconfigure, ...)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with open(self.run_dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _new_state(self, chosen: dict[str, int], sockdir: str, started_at: float) -> StackState:
        """The state of a stack about to start: its services with their ports, in start order."""
        services = self.enabled_services(self.config)
        state = StackState(name=self.name, mode=self.kind, config=self.config.model_dump(),
                           services={name: ServiceState(port=chosen[name]) for name in services},
                           sockdir=sockdir, started_at=started_at)
        if "proxy" in state.services:
            state.services["proxy"].extra["listen_port"] = chosen["proxy.listen"]
        state.services["web"].workers = self.config.web.workers
        return state

    # --- services and settings ---------------------------------------------------------------

    def service(self, name: str) -> Service:
        state = self._read()
        if name not in state.services:
            raise UsageError(f"unknown service '{name}'; this stack runs: {', '.join(state.services)}")
        return self._handle(name)

    def settings(self) -> StackConfig:
        """The running stack's configuration."""
        return StackConfig.model_validate(self._read().config)

    @staticmethod
    def check_workers(workers: int) -> None:
        if not 1 <= workers <= 64:
            raise UsageError(f"workers: {workers} is out of range; valid: 1-64")

    def reconfigure(self, overrides: list[str], restart: tuple[str, ...] = ()) -> StackConfig:
        """Change settings of the running stack (`key=value`, as for `up`), restarting `restart`."""
        state = self._load()
        new = apply_overrides(StackConfig.model_validate(state.config), overrides)
        with self._lock():
            state.config = new.model_dump()
            self._save()
            self._apply_settings(restart)
        return new

    def set_disabled_features(self, disabled: list[str]) -> list[str]:
        """Switch Arcade's features off (or back on) while it runs; no restart."""
        state = self._load()
        cfg = StackConfig.model_validate(state.config)
        new = cfg.model_copy(update={"web": cfg.web.model_copy(update={"disabled_features": sorted(set(disabled))})})
        with self._lock():
            state.config = new.model_dump()
            self._save()
            self._write_features(new.web.disabled_features)
        return list(new.web.disabled_features)

    def features_path(self) -> Path:
        return self.run_dir / "web" / "features.json"

    def _write_features(self, disabled: list[str]) -> None:
        """Arcade's switches file, replaced atomically (Arcade re-reads it within half a second);
        readable by anyone, as Arcade may run as another user (a container's `nobody`)."""
        folder = self.features_path().parent
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        write_atomic(self.features_path(), json.dumps({"disabled": sorted(disabled)}), mode=0o644)

    # --- addresses ---------------------------------------------------------------------------

    def address(self, service: str) -> str:
        """host:port of a service on this host (the proxy: its control API; loadgen: its control)."""
        state = self._read()
        if service not in state.services:
            raise UsageError(f"stack '{self.name}' runs no '{service}' service")
        return f"127.0.0.1:{state.services[service].port}"

    def urls(self) -> dict[str, str]:
        svc = self._read().services
        web = svc["web"].port
        urls = {
            "arcade": f"http://127.0.0.1:{web}/",
            "metrics": f"http://127.0.0.1:{web}/metrics",
            "postgres": f"postgresql://{APP_ROLE}@127.0.0.1:{svc['db'].port}/{APP_DB}",
        }
        if "proxy" in svc:
            urls["toxiproxy"] = f"http://127.0.0.1:{svc['proxy'].port}"
        if "pooler" in svc:
            urls["pgbouncer"] = f"postgresql://{APP_ROLE}@127.0.0.1:{svc['pooler'].port}/{APP_DB}"
        if "loadgen" in svc:
            urls["loadgen"] = f"http://127.0.0.1:{svc['loadgen'].port}"
        return urls

    def db_endpoint(self) -> int:
        """The host port in front of Arcade's database path: the proxy's `postgres` link when the
        proxy is on, else PgBouncer's when the pooler is on, else PostgreSQL's."""
        return self._endpoint_of(self._read())

    @staticmethod
    def _endpoint_of(state: StackState) -> int:
        svc = state.services
        if "proxy" in svc:
            return int(svc["proxy"].extra["listen_port"])
        return (svc["pooler"] if "pooler" in svc else svc["db"]).port

    def app_dsn(self, via_proxy: bool = True, application_name: str = "arcade") -> str:
        """libpq DSN of Arcade's role from this host: through the proxy slot (as Arcade connects)
        or straight to PostgreSQL."""
        return self._app_dsn_of(self._read(), via_proxy, application_name)

    def _app_dsn_of(self, state: StackState, via_proxy: bool = True, application_name: str = "arcade") -> str:
        port = self._endpoint_of(state) if via_proxy else state.services["db"].port
        return dsn("127.0.0.1", port, self._app_password(), application_name)

    def shell_env(self) -> dict[str, str]:
        """The stack's addresses for a responder's own tools: psql reaches the superuser's reserved
        slot (PGHOST, PGPORT, PGUSER, PGDATABASE[, PGPASSWORD]), curl $ARCADE_URL, ..."""
        target = self.admin_target(APP_DB)
        urls = self.urls()
        env = {"PGHOST": target.host, "PGPORT": str(target.port), "PGUSER": target.user, "PGDATABASE": APP_DB,
               "ARCADE_URL": urls["arcade"].rstrip("/"), "GAMEDAY_STACK": self.name, "GAMEDAY_ROOT": str(self.root)}
        if target.password:
            env["PGPASSWORD"] = target.password
        for key, var in (("toxiproxy", "TOXIPROXY_URL"), ("loadgen", "LOADGEN_URL")):
            if key in urls:
                env[var] = urls[key]
        return env

    # --- admin SQL ----------------------------------------------------------------------------

    def sql(self, query: str | Composable, params: Sequence[Any] = (),
            dbname: str = APP_DB) -> list[tuple[Any, ...]]:
        """Admin SQL as the superuser through a reserved slot (works while Arcade's are exhausted)."""
        running, paused = self._db_running()
        if paused:
            raise StackError("db is paused; `gameday service resume db` first")
        if not running:
            raise StackError("db is stopped; `gameday service start db` first")
        with contextlib.closing(self.admin_connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(query, tuple(params) or None)
            return list(cur.fetchall()) if cur.description else []

    def admin_connect(self, dbname: str = "postgres", timeout: float = 3) -> psycopg2.extensions.connection:
        """An autocommit superuser connection, retried while a storm briefly holds every slot."""
        return connect_retrying(self.admin_target(dbname).dsn(timeout, "gameday-admin"), timeout)

    @abc.abstractmethod
    def admin_target(self, dbname: str = "postgres") -> PgTarget: ...

    # --- status -------------------------------------------------------------------------------

    def status(self) -> StackStatus:
        state = self.state()
        rows: list[ServiceStatus] = []
        used = max_conn = None
        for name, svc in state.services.items():
            health_now = self._health(name, svc)
            if name == "db" and health_now == health.HEALTHY:
                try:
                    (used, max_conn), = self.sql(CONNECTIONS_SQL, dbname="postgres")
                except (psycopg2.Error, StackError) as exc:
                    health_now = f"unhealthy: {health.first_line(exc)}"
            detail = self._detail(name, svc)
            if name == "proxy":
                detail["listen"] = f"127.0.0.1:{svc.extra.get('listen_port')}"
            rows.append(ServiceStatus(name, svc.pid, f"127.0.0.1:{svc.port}", health_now, detail))
        return StackStatus(name=self.name, mode=self.kind, services=rows, db_connections_used=used,
                           db_max_connections=max_conn, urls=self.urls())

    @abc.abstractmethod
    def state(self) -> StackState: ...

    def logs(self, service: str, lines: int = 50) -> str:
        if service not in SERVICES:
            raise UsageError(f"unknown service '{service}'; valid: {', '.join(SERVICES)}")
        return self._logs(service, lines)

    # --- the pooler -----------------------------------------------------------------------------

    def enable_pooler(self, progress: Progress = no_progress) -> dict[str, Any]:
        """Put PgBouncer between Arcade and PostgreSQL on the running stack: start it, then move the
        proxy's upstream to it (like Toxiproxy, the update drops the proxy's open connections, so
        every new one is pooled); without the proxy slot, Arcade restarts with PgBouncer's address."""
        state = self._load()
        cfg = StackConfig.model_validate(state.config)
        summary: dict[str, Any] = {"pool_mode": cfg.pooler.pool_mode, "pool_size": cfg.pooler.pool_size}
        if "pooler" in state.services and self._running("pooler"):
            return {**summary, "port": state.services["pooler"].port, "already_enabled": True}
        self._pooler_preflight()
        with self._lock():
            taken = {s.port for s in state.services.values()}
            port = cfg.pooler.port or ports.free_port(taken)
            if cfg.pooler.port and procs.port_in_use(port):
                raise ports.in_use_error(ports.BY_NAME["pooler"], port)
            previous_config, previous_services = state.config, dict(state.services)
            state.config = cfg.model_copy(update={"pooler": cfg.pooler.model_copy(update={"enabled": True})}).model_dump()
            order = [n for n in SERVICES if n in state.services or n == "pooler"]
            state.services = {n: previous_services.get(n) or ServiceState(port=port) for n in order}
            self._save()
            try:
                progress("starting PgBouncer ...")
                self._start_pooler()
            except BaseException:
                with contextlib.suppress(Exception):
                    self._stop_pooler()
                state.config, state.services = previous_config, previous_services
                self._save()
                self._pooler_rolled_back()
                raise
            if "proxy" in state.services:
                self._move_proxy_upstream(self._pooler_upstream())
                via = "proxy upstream moved to PgBouncer"
            else:
                progress("restarting Arcade with PgBouncer's address ...")
                self._apply_settings(("web",))
                via = "Arcade restarted with PgBouncer's address"
        return {**summary, "port": port, "already_enabled": False, "via": via}

    def _move_proxy_upstream(self, upstream: str) -> None:
        """Point the proxy's `postgres` link at another upstream, through its control API."""
        body = json.dumps({"upstream": upstream}).encode()
        request = urllib.request.Request(f"http://{self.address('proxy')}/proxies/{PROXY_NAME}", data=body,
                                         method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            resp.read()

    # --- hooks a kind fills in -----------------------------------------------------------------

    @abc.abstractmethod
    def _handle(self, name: str) -> Service: ...

    def _running(self, name: str) -> bool:
        """Whether a service runs now (its process, or at least one of its containers)."""
        return self.state().services[name].pid is not None

    def _db_running(self) -> tuple[bool, bool]:
        """(running, paused) of the database, as cheaply as the kind can tell."""
        db = self.state().services["db"]
        return db.pid is not None, db.paused

    @abc.abstractmethod
    def _health(self, name: str, svc: ServiceState) -> str:
        """The health column of `gameday status` for one service."""

    def _detail(self, name: str, svc: ServiceState) -> dict[str, Any]:
        return {}

    @abc.abstractmethod
    def _app_password(self) -> str: ...

    @abc.abstractmethod
    def _apply_settings(self, restart: tuple[str, ...]) -> None:
        """The stack's settings changed: bring the kind's own files in line, restart `restart`."""

    def _pooler_preflight(self) -> None:
        """Refuse before anything changes when PgBouncer cannot run here."""

    @abc.abstractmethod
    def _start_pooler(self) -> None: ...

    @abc.abstractmethod
    def _stop_pooler(self) -> None: ...

    def _pooler_rolled_back(self) -> None:
        """After a failed enable_pooler restored the state: bring the kind's own files back in line."""

    @abc.abstractmethod
    def _pooler_upstream(self) -> str:
        """PgBouncer's address as the proxy sees it."""

    @abc.abstractmethod
    def _logs(self, service: str, lines: int) -> str: ...
