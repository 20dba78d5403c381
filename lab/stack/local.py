"""The embedded stack: PostgreSQL, the DB proxy slot and Arcade as local processes under a run dir.

    .gameday/<name>/
      state.json        what runs where (pids, ports, paused, workers)
      pg/data           the stack's own cluster (a copy of the cached template)
      pg/secrets.json   role passwords
      logs/<service>.log
      web/prom/         prometheus-client multiprocess files

    up:    check name, binaries, ports -> cluster -> [proxy] -> Arcade -> wait healthy
    down:  Arcade -> [proxy] -> cluster; nothing left running, idempotent

Every start is undone on every failure path: a failed `up` stops what it started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2

from lab.errors import PortInUseError, StackError, StackExistsError, StackNotFoundError, StartupTimeout, UsageError
from lab.stack import postgres, procs
from lab.stack.base import ServiceStatus, StackStatus
from lab.stack.config import StackConfig
from lab.stack.pgbin import find_pg_bin
from lab.stack.state import ServiceState, StackState, check_name, default_root

SERVICES = ("db", "web")
Progress = Callable[[str], None]


class LocalStack:
    """One embedded stack, addressed by name under a run root."""

    mode = "local"

    def __init__(self, name: str = "default", root: Path | None = None, config: StackConfig | None = None):
        self.name = check_name(name)
        self.root = Path(root) if root is not None else default_root()
        self.run_dir = (self.root / self.name).absolute()
        self.config = config or StackConfig()
        self.state_path = self.run_dir / "state.json"
        self._state: StackState | None = None

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def services(self) -> tuple[str, ...]:
        return SERVICES

    def is_up(self) -> bool:
        state = StackState.load(self.state_path)
        return state is not None and any(procs.alive(s.pid) for s in state.services.values())

    def up(self, progress: Progress = lambda _msg: None) -> StackStatus:
        """Start every service and wait until all are healthy; undo everything on failure."""
        pgbin = find_pg_bin()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            existing = StackState.load(self.state_path)
            if existing is not None:
                running = {n: s.pid for n, s in existing.services.items() if procs.alive(s.pid)}
                if running:
                    raise StackExistsError(
                        f"stack '{self.name}' is already up (pids {', '.join(map(str, running.values()))}); "
                        f"`gameday down --name {self.name}` stops it, or choose another --name"
                    )
                self._state = existing
                self._stop_all()  # a stale state from a crash: make sure nothing of it lingers
            ports = self._allocate_ports()
            pg_dir = postgres.cluster_home(self.run_dir)
            started = time.monotonic()
            if not (pg_dir / "data" / "PG_VERSION").exists():
                template = postgres.ensure_template(pgbin, progress)
                progress("copying the template cluster ...")
                postgres.materialise(template, pg_dir)
            self._state = StackState(
                name=self.name,
                mode=self.mode,
                config=self.config.model_dump(),
                services={"db": ServiceState(port=ports["db"]), "web": ServiceState(port=ports["web"])},
                sockdir=str(postgres.socket_dir_for(pg_dir, ports["db"])),
                started_at=time.time(),
            )
            self._save()
            try:
                progress("starting PostgreSQL ...")
                self._start_db()
                progress("starting Arcade ...")
                self._start_web()
            except BaseException:
                self._stop_all()
                self.state_path.unlink(missing_ok=True)
                raise
            progress(f"stack '{self.name}' healthy in {time.monotonic() - started:.2f} s")
        return self.status()

    def down(self, purge: bool = False) -> bool:
        """Stop everything this stack started; True if anything was running. Idempotent."""
        if not self.run_dir.exists():
            return False
        with self._lock():
            self._state = StackState.load(self.state_path)
            was_up = self._state is not None and any(procs.alive(s.pid) for s in self._state.services.values())
            if self._state is not None:
                self._stop_all()
                sockdir = Path(self._state.sockdir)
                self.state_path.unlink(missing_ok=True)
                if purge and not sockdir.is_relative_to(self.run_dir):
                    shutil.rmtree(sockdir, ignore_errors=True)
        if purge:
            postgres.remove_cluster_home(self.run_dir)
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return was_up

    # --- per-service operations ------------------------------------------------------------

    def service(self, name: str) -> LocalService:
        if name not in SERVICES:
            raise UsageError(f"unknown service '{name}'; valid: {', '.join(SERVICES)}")
        self._require_up()
        return LocalService(self, name)

    def scale_web(self, workers: int) -> int:
        """Set the number of Arcade worker processes (gunicorn TTIN/TTOU); return the new count."""
        if not 1 <= workers <= 64:
            raise UsageError(f"workers: {workers} is out of range; valid: 1-64")
        state = self._require_up()
        web = state.services["web"]
        if not procs.alive(web.pid):
            raise StackError("web is stopped; `gameday service start web` first")
        assert web.pid is not None
        current = len(self.web_workers())
        while current != workers:
            sig = signal.SIGTTIN if workers > current else signal.SIGTTOU
            os.kill(web.pid, sig)
            expected = current + (1 if sig == signal.SIGTTIN else -1)
            if not procs.wait_until(lambda: len(self.web_workers()) == expected, 15.0):
                raise StackError(f"web did not reach {expected} workers; last log lines:\n{self.logs('web', 10)}")
            current = expected
        web.workers = workers
        self._save()
        return workers

    def web_workers(self) -> list[int]:
        """Pids of Arcade's live worker processes."""
        state = self._require_up()
        pid = state.services["web"].pid
        if not procs.alive(pid):
            return []
        import psutil

        try:
            children = psutil.Process(pid).children()
        except psutil.NoSuchProcess:
            return []
        return [c.pid for c in children if procs.is_live(c)]

    def sql(self, query: str, params: tuple[Any, ...] = (), dbname: str = postgres.APP_DB) -> list[tuple[Any, ...]]:
        """Run admin SQL as the superuser over the private socket (works while Arcade's slots are exhausted)."""
        state = self._require_up()
        db = state.services["db"]
        if db.paused:
            raise StackError("db is paused; `gameday service resume db` first")
        if not procs.alive(db.pid):
            raise StackError("db is stopped; `gameday service start db` first")
        with contextlib.closing(self.cluster().connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(query, params or None)
            return list(cur.fetchall()) if cur.description else []

    def logs(self, service: str, lines: int = 50) -> str:
        if service not in SERVICES:
            raise UsageError(f"unknown service '{service}'; valid: {', '.join(SERVICES)}")
        return procs.tail(self.log_path(service), lines)

    def log_path(self, service: str) -> Path:
        return self.run_dir / "logs" / f"{service}.log"

    # --- status ----------------------------------------------------------------------------

    def status(self) -> StackStatus:
        state = self._require_up()
        rows: list[ServiceStatus] = []
        used: int | None = None
        max_conn: int | None = None
        db = state.services["db"]
        db_health = _process_health(db)
        if db_health == "healthy":
            try:
                (used, max_conn), = self.sql(
                    "SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
                    " current_setting('max_connections')::int FROM pg_stat_activity",
                    dbname="postgres",
                )
            except (psycopg2.Error, StackError) as exc:
                db_health = f"unhealthy: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc}"
        rows.append(ServiceStatus("db", db.pid, f"127.0.0.1:{db.port}", db_health))
        web = state.services["web"]
        web_health = _process_health(web)
        if web_health == "healthy":
            web_health = _http_health(f"http://127.0.0.1:{web.port}/readyz")
        rows.append(
            ServiceStatus("web", web.pid, f"127.0.0.1:{web.port}", web_health, {"workers": len(self.web_workers())})
        )
        return StackStatus(
            name=self.name,
            mode=self.mode,
            services=rows,
            db_connections_used=used,
            db_max_connections=max_conn,
            urls=self.urls(),
        )

    def urls(self) -> dict[str, str]:
        state = self._require_up()
        return {
            "arcade": f"http://127.0.0.1:{state.services['web'].port}/",
            "metrics": f"http://127.0.0.1:{state.services['web'].port}/metrics",
            "postgres": f"postgresql://{postgres.APP_ROLE}@127.0.0.1:{state.services['db'].port}/{postgres.APP_DB}",
        }

    # --- internals -------------------------------------------------------------------------

    def cluster(self) -> postgres.PgCluster:
        state = self._state or self._require_up()
        cfg = StackConfig.model_validate(state.config).db
        settings = {
            "max_connections": str(cfg.max_connections),
            "superuser_reserved_connections": str(cfg.superuser_reserved_connections),
            "shared_buffers": f"{cfg.shared_buffers_mb}MB",
            "log_min_messages": "warning",
            "log_line_prefix": "%m [%p] %q%u@%d ",
            "log_statement": "all" if cfg.statement_log else "none",
        }
        return postgres.PgCluster(
            pgbin=find_pg_bin(),
            datadir=self.run_dir / "pg" / "data",
            sockdir=Path(state.sockdir),
            log_path=self.log_path("db"),
            port=state.services["db"].port,
            settings=settings,
        )

    def _require_up(self) -> StackState:
        state = StackState.load(self.state_path)
        if state is None:
            raise StackNotFoundError(f"stack '{self.name}' is not up; `gameday up --name {self.name}` starts it")
        self._state = state
        return state

    def _save(self) -> None:
        assert self._state is not None
        self._state.save(self.state_path)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with open(self.run_dir / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _allocate_ports(self) -> dict[str, int]:
        pinned = self.config.explicit_ports()
        for key, port in pinned.items():
            if procs.port_in_use(port):
                raise PortInUseError(
                    f"{key}: port {port} on 127.0.0.1 is already in use; choose another or set it to 0 for a free port"
                )
        chosen: dict[str, int] = {}
        taken = set(pinned.values())
        for service, port in (("db", self.config.db.port), ("web", self.config.web.port)):
            while not port or (port in taken and port not in pinned.values()):
                port = procs.free_port()
            chosen[service] = port
            taken.add(port)
        return chosen

    def _start_db(self) -> None:
        assert self._state is not None
        db = self._state.services["db"]
        db.pid = self.cluster().start()
        db.paused = False
        self._save()

    def _stop_db(self) -> None:
        assert self._state is not None
        db = self._state.services["db"]
        self.cluster().stop(db.pid)
        db.pid, db.paused = None, False
        self._save()

    def _web_env(self) -> dict[str, str]:
        assert self._state is not None
        cfg = StackConfig.model_validate(self._state.config).web
        creds = postgres.Secrets.load(self.run_dir / "pg" / "secrets.json")
        db_port = self._state.services["db"].port
        prom = self.run_dir / "web" / "prom"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir(parents=True)
        env = dict(os.environ)
        env.update(
            {
                "ARCADE_DSN": (
                    f"host=127.0.0.1 port={db_port} dbname={postgres.APP_DB} "
                    f"user={postgres.APP_ROLE} password={creds.app_password}"
                ),
                "ARCADE_ACCESS_MODE": cfg.access_mode,
                "ARCADE_POOL_SIZE": str(cfg.pool_size),
                "ARCADE_POOL_TIMEOUT_S": str(cfg.pool_timeout_s),
                "ARCADE_CONNECT_TIMEOUT_S": str(cfg.connect_timeout_s),
                "ARCADE_STATEMENT_TIMEOUT_MS": str(cfg.statement_timeout_ms),
                "ARCADE_REQUEST_TIMEOUT_S": str(cfg.request_timeout_s),
                "ARCADE_FLAGS": ",".join(cfg.flags),
                "PROMETHEUS_MULTIPROC_DIR": str(prom),
            }
        )
        return env

    def _start_web(self, timeout: float = 30.0) -> None:
        assert self._state is not None
        cfg = StackConfig.model_validate(self._state.config).web
        web = self._state.services["web"]
        workers = web.workers or cfg.workers
        argv = [
            sys.executable, "-m", "gunicorn",
            "-c", "python:arcade.gunicorn_conf",
            "--bind", f"127.0.0.1:{web.port}",
            "--workers", str(workers),
            "--threads", str(cfg.threads),
            "--timeout", str(max(30, int(cfg.request_timeout_s * 3))),
            "--name", f"arcade-{self.name}",
            "arcade:create_app()",
        ]
        pid = procs.spawn(argv, self.log_path("web"), env=self._web_env(), cwd=self.run_dir)
        web.pid, web.paused, web.workers = pid, False, workers
        self._save()
        url = f"http://127.0.0.1:{web.port}/readyz"
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not procs.alive(pid):
                raise StackError(f"Arcade exited during start (see {self.log_path('web')}):\n{self.logs('web', 15)}")
            last = _http_health(url, timeout=1.0)
            if last == "healthy":
                return
            time.sleep(0.02)
        raise StartupTimeout(
            f"Arcade did not become ready within {timeout:.0f} s ({last}); last log lines:\n{self.logs('web', 15)}"
        )

    def _stop_web(self) -> None:
        assert self._state is not None
        web = self._state.services["web"]
        if web.pid:
            procs.stop_tree(web.pid, signal.SIGTERM, grace=10)
        web.pid, web.paused = None, False
        self._save()

    def _stop_all(self) -> None:
        """Stop every service in reverse start order, whatever state each is in."""
        assert self._state is not None
        errors = []
        for stop in (self._stop_web, self._stop_db):
            try:
                stop()
            except Exception as exc:  # keep stopping the rest; report at the end
                errors.append(str(exc))
        if errors:
            raise StackError("could not stop everything cleanly: " + "; ".join(errors))


class LocalService:
    """Handle on one service of a running embedded stack."""

    def __init__(self, stack: LocalStack, name: str):
        self.stack = stack
        self.name = name

    def _svc(self) -> ServiceState:
        return self.stack._require_up().services[self.name]

    def stop(self) -> None:
        self._svc()
        {"db": self.stack._stop_db, "web": self.stack._stop_web}[self.name]()

    def start(self) -> None:
        svc = self._svc()
        if procs.alive(svc.pid):
            raise UsageError(f"{self.name} is already running (pid {svc.pid})")
        {"db": self.stack._start_db, "web": self.stack._start_web}[self.name]()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze every process of the service (SIGSTOP): it holds its sockets but answers nothing."""
        svc = self._svc()
        if not procs.alive(svc.pid):
            raise StackError(f"{self.name} is stopped; nothing to pause")
        assert svc.pid is not None
        procs.signal_tree(svc.pid, signal.SIGSTOP)
        svc.paused = True
        self.stack._save()

    def resume(self) -> None:
        svc = self._svc()
        if svc.pid:
            procs.signal_tree(svc.pid, signal.SIGCONT)
        svc.paused = False
        self.stack._save()

    def logs(self, lines: int = 50) -> str:
        return self.stack.logs(self.name, lines)


def _process_health(svc: ServiceState) -> str:
    if not procs.alive(svc.pid):
        return "stopped"
    if svc.paused:
        return "paused"
    return "healthy"


def _http_health(url: str, timeout: float = 2.0) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return "healthy" if resp.status == 200 else f"unhealthy: HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        try:
            cause = json.loads(exc.read() or b"{}").get("error", "")
        except ValueError:
            cause = ""
        return f"unhealthy: HTTP {exc.code}" + (f" {cause}" if cause else "")
    except (OSError, urllib.error.URLError) as exc:
        reason = getattr(exc, "reason", exc)
        return f"unhealthy: {reason}"


def all_stacks(root: Path | None = None) -> list[str]:
    """Names of stacks that have a state file under the run root."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        return []
    return sorted(p.parent.name for p in base.glob("*/state.json"))
