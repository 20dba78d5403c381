"""The embedded stack: PostgreSQL, the DB proxy slot, Arcade and the load generator as local
processes under a run dir.

    .gameday/<name>/
      state.json        what runs where (pids, ports, paused, workers)
      pg/               the stack's own cluster (a copy of the cached template) and secrets
      logs/<service>.log
      proxy.json        the proxies the fault proxy creates at start (Toxiproxy populate format)
      pg/pgbouncer/     PgBouncer's config, when the pooler is on
      web/prom/         prometheus-client multiprocess files

    up:    check name, binaries, ports -> db -> [pooler] -> [proxy] -> web -> [loadgen] -> all healthy
    down:  the reverse; nothing left running, idempotent

    Arcade ──TCP──▶ proxy `postgres` (when enabled) ──TCP──▶ [PgBouncer] ──TCP──▶ PostgreSQL
                                                               admin SQL ──unix socket──▶ PostgreSQL

Every start is undone on every failure path: a failed `up` stops what it started.
"""

from __future__ import annotations

import contextlib
import copy
import signal as _signal
import fcntl
import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from lab.errors import PortInUseError, StackError, StackExistsError, StackNotFoundError, StartupTimeout, UsageError
from lab.stack import pooler, postgres, procs
from lab.stack.base import kill_signal
from lab.stack.base import Capabilities, PgTarget, ServiceStatus, StackStatus, SUPERUSER
from lab.stack.config import StackConfig, apply_overrides
from lab.stack.pgbin import find_pg_bin
from lab.stack.state import ServiceState, StackState, check_name, default_root

ALL_SERVICES = ("db", "pooler", "proxy", "web", "loadgen")  # start order; stop order is the reverse
PROXY_NAME = "postgres"  # the Toxiproxy proxy between Arcade and PostgreSQL
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process service and how to tell that it is ready."""

    argv: list[str]
    env: dict[str, str]
    ready_url: str  # http://... answers 200, or tcp://host:port accepts a connection
    stop_signal: int = signal.SIGTERM
    user: str | None = None


def enabled_services(config: StackConfig) -> tuple[str, ...]:
    on = {
        "db": True,
        "pooler": config.pooler.enabled,
        "proxy": config.proxy.enabled,
        "web": True,
        "loadgen": config.loadgen.enabled,
    }
    return tuple(name for name in ALL_SERVICES if on[name])


class LocalStack:
    """One embedded stack, addressed by name under a run root."""

    kind = mode = "local"
    capabilities = Capabilities(containers=False, data_kept_on_down=True)

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
        state = StackState.load(self.state_path)
        return tuple(state.services) if state else enabled_services(self.config)

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
            started = time.monotonic()
            pg_dir = postgres.cluster_home(self.run_dir)
            if not (pg_dir / "data" / "PG_VERSION").exists():
                template = postgres.ensure_template(pgbin, progress)
                progress("copying the template cluster ...")
                postgres.materialise(template, pg_dir)
            services = enabled_services(self.config)
            self._state = StackState(
                name=self.name,
                mode=self.mode,
                config=self.config.model_dump(),
                services={name: ServiceState(port=ports[name]) for name in services},
                sockdir=str(postgres.socket_dir_for(pg_dir, ports["db"])),
                started_at=time.time(),
            )
            if "proxy" in services:
                self._state.services["proxy"].extra["listen_port"] = ports["proxy.listen"]
            self._save()
            try:
                # The proxy and the load generator need nobody to be up yet: start them first,
                # so their interpreters boot while PostgreSQL and Arcade start.
                early = [n for n in services if n in ("pooler", "proxy", "loadgen")]
                for name in early:
                    self._launch(name)
                progress("starting PostgreSQL ...")
                self._start("db")
                self._launch("web")
                progress("waiting for every service to answer ...")
                for name in services:
                    self._await(name)
            except BaseException:
                self._stop_all()
                self.state_path.unlink(missing_ok=True)
                raise
            progress(f"stack '{self.name}' healthy in {time.monotonic() - started:.2f} s")
        return self.status()

    def down(self, purge: bool = False, keep_data: bool = False) -> bool:
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

    def state(self) -> StackState:
        """The state file, with the pid of a stopped service None and its paused flag cleared."""
        live = copy.deepcopy(self._require_up())
        for svc in live.services.values():
            if not procs.alive(svc.pid):
                svc.pid, svc.paused = None, False
        return live

    def preflight(self) -> None:
        find_pg_bin()
        if self.config.pooler.enabled:
            pooler.find_pgbouncer()

    def admin_target(self, dbname: str = "postgres") -> PgTarget:
        """The superuser over the cluster's private unix socket (a reserved slot)."""
        cluster = self.cluster()
        return PgTarget(host=str(cluster.sockdir), port=cluster.port, user=SUPERUSER, dbname=dbname)

    def stats(self) -> dict[str, dict[str, float]]:
        """CPU (% of one core) and memory (MB) of every running service (its whole process tree)."""
        return procs.tree_stats({name: svc.pid for name, svc in self.state().services.items() if svc.pid})

    def follow_logs(self, service: str) -> Iterator[str]:
        """New lines of a service's log as they come."""
        return procs.follow(self.log_path(service))

    def shell_env(self) -> dict[str, str]:
        return {"PGDATA": str(self.run_dir / "pg" / "data")}

    # --- per-service operations ------------------------------------------------------------

    def service(self, name: str) -> LocalService:
        state = self._require_up()
        if name not in state.services:
            raise UsageError(f"unknown service '{name}'; this stack runs: {', '.join(state.services)}")
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
            os.kill(web.pid, sig)  # one at a time: signals of one kind sent together coalesce
            expected = current + (1 if sig == signal.SIGTTIN else -1)
            if not procs.wait_until(lambda: len(self.web_workers()) == expected, 15.0):
                raise StackError(f"web did not reach {expected} workers; last log lines:\n{self.logs('web', 10)}")
            current = expected
        web.workers = workers
        self._save()
        return workers

    def reconfigure(self, overrides: list[str], restart: tuple[str, ...]) -> StackConfig:
        """Change settings of the running stack (`key=value`, as for `up`), restarting `restart`."""
        state = self._require_up()
        new = apply_overrides(StackConfig.model_validate(state.config), overrides)
        with self._lock():
            state.config = new.model_dump()
            self._save()
            for name in restart:
                self._stop(name)
                self._start(name)
        return new

    def settings(self) -> StackConfig:
        """The running stack's current configuration."""
        return StackConfig.model_validate(self._require_up().config)

    def web_workers(self) -> list[int]:
        """Pids of Arcade's live worker processes."""
        state = self._require_up()
        pid = state.services["web"].pid
        members = procs.tree(pid) if procs.alive(pid) else []
        return [p.pid for p in members[1:]]

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
        if service not in ALL_SERVICES:
            raise UsageError(f"unknown service '{service}'; valid: {', '.join(ALL_SERVICES)}")
        return procs.tail(self.log_path(service), lines)

    def log_path(self, service: str) -> Path:
        return self.run_dir / "logs" / f"{service}.log"

    def address(self, service: str) -> str:
        """host:port of a service (for the proxy: its control API; for loadgen: its control interface)."""
        state = self._require_up()
        if service not in state.services:
            raise UsageError(f"stack '{self.name}' runs no '{service}' service")
        return f"127.0.0.1:{state.services[service].port}"

    # --- status ----------------------------------------------------------------------------

    def status(self) -> StackStatus:
        state = self._require_up()
        rows: list[ServiceStatus] = []
        used: int | None = None
        max_conn: int | None = None
        for name, svc in state.services.items():
            health = _process_health(svc)
            detail: dict[str, Any] = {}
            if name == "db" and health == "healthy":
                try:
                    (used, max_conn), = self.sql(
                        "SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
                        " current_setting('max_connections')::int FROM pg_stat_activity",
                        dbname="postgres",
                    )
                except (psycopg2.Error, StackError) as exc:
                    health = f"unhealthy: {_first_line(exc)}"
            elif health == "healthy":
                health = _http_health(self._spec(name).ready_url)
            if name == "web":
                detail["workers"] = len(self.web_workers())
            if name == "proxy":
                detail["listen"] = f"127.0.0.1:{svc.extra['listen_port']}"
            rows.append(ServiceStatus(name, svc.pid, f"127.0.0.1:{svc.port}", health, detail))
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
        svc = state.services
        urls = {
            "arcade": f"http://127.0.0.1:{svc['web'].port}/",
            "metrics": f"http://127.0.0.1:{svc['web'].port}/metrics",
            "postgres": f"postgresql://{postgres.APP_ROLE}@127.0.0.1:{svc['db'].port}/{postgres.APP_DB}",
        }
        if "proxy" in svc:
            urls["toxiproxy"] = f"http://127.0.0.1:{svc['proxy'].port}"
        if "pooler" in svc:
            urls["pgbouncer"] = f"postgresql://{postgres.APP_ROLE}@127.0.0.1:{svc['pooler'].port}/{postgres.APP_DB}"
        if "loadgen" in svc:
            urls["loadgen"] = f"http://127.0.0.1:{svc['loadgen'].port}"
        return urls

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
        self._adopt_postmaster(state)
        return state

    def _adopt_postmaster(self, state: StackState) -> None:
        """PostgreSQL restarted by hand (pg_ctl restart): follow its new postmaster pid."""
        db = state.services["db"]
        if db.pid is None or procs.alive(db.pid):
            return
        try:
            pid = int((self.run_dir / "pg" / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        if pid != db.pid and procs.alive(pid):
            db.pid = pid
            state.save(self.state_path)

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
        """A port per service (and the proxy's listen port): pinned ones checked, the rest free."""
        pinned = self.config.explicit_ports()
        for key, port in pinned.items():
            if procs.port_in_use(port):
                raise PortInUseError(
                    f"{key}: port {port} on 127.0.0.1 is already in use; choose another or set it to 0 for a free port"
                )
        keys = {
            "db": "db.port",
            "proxy": "proxy.api_port",
            "proxy.listen": "proxy.listen_port",
            "web": "web.port",
            "loadgen": "loadgen.control_port",
            "pooler": "pooler.port",
        }
        settings = self.config.ports()
        taken = set(pinned.values())
        chosen: dict[str, int] = {}
        for slot, key in keys.items():
            port = settings[key]
            while not port:
                candidate = procs.free_port()
                port = candidate if candidate not in taken else 0
            chosen[slot] = port
            taken.add(port)
        return chosen

    def _spec(self, name: str) -> ProcessSpec:
        """The command line, environment and readiness URL of a process service."""
        assert self._state is not None
        cfg = StackConfig.model_validate(self._state.config)
        svc = self._state.services[name]
        base_env = dict(os.environ)
        if name == "proxy":
            return ProcessSpec(
                argv=[sys.executable, "-m", "lab.cli", "proxy", "--host", "127.0.0.1", "--port", str(svc.port),
                      "--config", str(self.run_dir / "proxy.json"), "--proxy-metrics"],
                env=base_env,
                ready_url=f"http://127.0.0.1:{svc.port}/proxies/{PROXY_NAME}",
                stop_signal=signal.SIGTERM,
            )
        if name == "pooler":
            account = procs.service_user()
            return ProcessSpec(
                argv=[pooler.find_pgbouncer(), str(self._pooler_dir() / "pgbouncer.ini")],
                env=base_env,
                ready_url=f"tcp://127.0.0.1:{svc.port}",
                user=account.pw_name if account else None,
            )
        if name == "web":
            return ProcessSpec(
                argv=[
                    sys.executable, "-m", "gunicorn",
                    "-c", "python:arcade.gunicorn_conf",
                    "--bind", f"127.0.0.1:{svc.port}",
                    "--workers", str(svc.workers or cfg.web.workers),
                    "--threads", str(cfg.web.threads),
                    "--timeout", str(max(30, int(cfg.web.request_timeout_s * 3))),
                    "--name", f"arcade-{self.name}",
                    "arcade:create_app()",
                ],
                env={**base_env, **self._web_env(cfg)},
                ready_url=f"http://127.0.0.1:{svc.port}/readyz",
            )
        if name == "loadgen":
            web = self._state.services["web"].port
            return ProcessSpec(
                argv=[sys.executable, "-m", "loadgen", "--target", f"http://127.0.0.1:{web}",
                      "--control", f"127.0.0.1:{svc.port}", "--rate", str(cfg.loadgen.rate)],
                env=base_env,
                ready_url=f"http://127.0.0.1:{svc.port}/healthz",
            )
        raise UsageError(f"unknown service '{name}'")

    def db_endpoint(self) -> int:
        """The port Arcade connects to: the proxy's listen port when the proxy slot is on, else
        PgBouncer's when the pooler is on, else PostgreSQL's."""
        assert self._state is not None
        proxy = self._state.services.get("proxy")
        return int(proxy.extra["listen_port"]) if proxy else self._upstream_port()

    def _upstream_port(self) -> int:
        """What sits right behind the proxy slot: PgBouncer when the pooler is on, else PostgreSQL."""
        assert self._state is not None
        svc = self._state.services
        return (svc["pooler"] if "pooler" in svc else svc["db"]).port

    def _pooler_dir(self) -> Path:
        return postgres.cluster_home(self.run_dir) / "pgbouncer"

    def _write_pooler_config(self) -> None:
        """pgbouncer.ini and its auth file, readable by the server account only."""
        assert self._state is not None
        cfg = StackConfig.model_validate(self._state.config)
        creds = postgres.Secrets.load(self.run_dir / "pg" / "secrets.json")
        home = self._pooler_dir()
        home.mkdir(mode=0o700, exist_ok=True)
        auth = home / "userlist.txt"
        auth.write_text(pooler.render_userlist(postgres.APP_ROLE, creds.app_password))
        (home / "pgbouncer.ini").write_text(pooler.render_ini(
            cfg.pooler,
            listen_port=self._state.services["pooler"].port,
            db_port=self._state.services["db"].port,
            dbname=postgres.APP_DB,
            user=postgres.APP_ROLE,
            auth_file=auth,
            statement_timeout_ms=cfg.web.statement_timeout_ms,
            query_wait_timeout_s=int(cfg.web.request_timeout_s),
        ))
        account = procs.service_user()
        for path in (home, auth, home / "pgbouncer.ini"):
            path.chmod(0o700 if path.is_dir() else 0o600)
            if account is not None:
                os.chown(path, account.pw_uid, account.pw_gid)

    def enable_pooler(self, progress: Progress = lambda _msg: None) -> dict[str, Any]:
        """Put PgBouncer between Arcade and PostgreSQL on the running stack.

        With the proxy slot on, the proxy's upstream moves to PgBouncer (like Toxiproxy, the
        update drops the proxy's open connections, so every new one is pooled); without it,
        Arcade restarts with PgBouncer's address."""
        state = self._require_up()
        cfg = StackConfig.model_validate(state.config)
        summary = {"pool_mode": cfg.pooler.pool_mode, "pool_size": cfg.pooler.pool_size}
        if "pooler" in state.services and procs.alive(state.services["pooler"].pid):
            return {**summary, "port": state.services["pooler"].port, "already_enabled": True}
        pooler.find_pgbouncer()  # fail before changing anything
        with self._lock():
            port = cfg.pooler.port or procs.free_port()
            if cfg.pooler.port and procs.port_in_use(port):
                raise PortInUseError(f"pooler.port: port {port} on 127.0.0.1 is already in use; set it to 0")
            state.config = cfg.model_copy(update={"pooler": cfg.pooler.model_copy(update={"enabled": True})}).model_dump()
            order = [n for n in ALL_SERVICES if n in state.services or n == "pooler"]
            previous = dict(state.services)
            state.services = {n: previous.get(n) or ServiceState(port=port) for n in order}
            self._save()
            try:
                progress("starting PgBouncer ...")
                self._start("pooler")
            except BaseException:
                self._stop("pooler")
                state.services = previous
                state.config = cfg.model_dump()
                self._save()
                raise
            if "proxy" in state.services:
                self._write_proxy_config()
                proxy = state.services["proxy"]
                body = json.dumps({"upstream": f"127.0.0.1:{port}"}).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{proxy.port}/proxies/{PROXY_NAME}", data=body, method="POST",
                    headers={"Content-Type": "application/json"},
                )
                with urllib.request.urlopen(request, timeout=5) as resp:
                    resp.read()
                via = "proxy upstream moved to PgBouncer"
            else:
                progress("restarting Arcade with PgBouncer's address ...")
                self._stop("web")
                self._start("web")
                via = "Arcade restarted with PgBouncer's address"
        return {**summary, "port": port, "already_enabled": False, "via": via}

    def app_dsn(self, via_proxy: bool = True, application_name: str = "arcade") -> str:
        """libpq DSN of Arcade's role: through the proxy slot (as Arcade connects) or straight to the DB."""
        state = self._state or self._require_up()
        creds = postgres.Secrets.load(self.run_dir / "pg" / "secrets.json")
        port = self.db_endpoint() if via_proxy else state.services["db"].port
        return (
            f"host=127.0.0.1 port={port} dbname={postgres.APP_DB} user={postgres.APP_ROLE} "
            f"password={creds.app_password} application_name={application_name}"
        )

    def _web_env(self, cfg: StackConfig) -> dict[str, str]:
        """Arcade's environment (no side effects: `_spec` is also used to find readiness URLs)."""
        prom = self.run_dir / "web" / "prom"
        web = cfg.web
        return {
            "ARCADE_DSN": self.app_dsn(),
            "ARCADE_ACCESS_MODE": web.access_mode,
            "ARCADE_POOL_SIZE": str(web.pool_size),
            "ARCADE_POOL_TIMEOUT_S": str(web.pool_timeout_s),
            "ARCADE_CONNECT_TIMEOUT_S": str(web.connect_timeout_s),
            "ARCADE_STATEMENT_TIMEOUT_MS": str(web.statement_timeout_ms),
            "ARCADE_REQUEST_TIMEOUT_S": str(web.request_timeout_s),
            "ARCADE_FLAGS": ",".join(web.flags),
            "PROMETHEUS_MULTIPROC_DIR": str(prom),
            "ARCADE_FEATURES_FILE": str(self._features_path()),
        }

    def _features_path(self) -> Path:
        return self.run_dir / "web" / "features.json"

    def _write_features(self, disabled: list[str]) -> None:
        """Arcade's switches file, replaced atomically (Arcade re-reads it within half a second)."""
        path = self._features_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"disabled": sorted(disabled)}))
        os.replace(tmp, path)

    def set_disabled_features(self, disabled: list[str]) -> list[str]:
        """Switch Arcade's features off (or back on) while it runs; no restart."""
        state = self._require_up()
        cfg = StackConfig.model_validate(state.config)
        new = cfg.model_copy(update={"web": cfg.web.model_copy(update={"disabled_features": sorted(set(disabled))})})
        with self._lock():
            state.config = new.model_dump()
            self._save()
            self._write_features(new.web.disabled_features)
        return new.web.disabled_features

    def _start(self, name: str, timeout: float = 30.0) -> None:
        """Start one service and wait until it is ready."""
        self._launch(name)
        self._await(name, timeout)

    def _launch(self, name: str) -> None:
        """Start one service's process without waiting (PostgreSQL: waits, it is quick)."""
        assert self._state is not None
        svc = self._state.services[name]
        if name == "db":
            svc.pid, svc.paused = self.cluster().start(), False
            self._save()
            return
        if name == "proxy":
            self._write_proxy_config()
        if name == "pooler":
            self._write_pooler_config()
        if name == "web":
            cfg = StackConfig.model_validate(self._state.config)
            svc.workers = svc.workers or cfg.web.workers
            prom = self.run_dir / "web" / "prom"  # metrics of a previous Arcade must not add up
            shutil.rmtree(prom, ignore_errors=True)
            prom.mkdir(parents=True)
            self._write_features(cfg.web.disabled_features)
        spec = self._spec(name)
        cwd = self._pooler_dir() if name == "pooler" else self.run_dir
        svc.pid = procs.spawn(spec.argv, self.log_path(name), env=spec.env, user=spec.user, cwd=cwd)
        svc.paused = False
        self._save()

    def _write_proxy_config(self) -> None:
        """proxy.json: the one proxy, from Arcade's side to what sits behind it."""
        assert self._state is not None
        listen = self._state.services["proxy"].extra["listen_port"]
        (self.run_dir / "proxy.json").write_text(json.dumps([{
            "name": PROXY_NAME, "listen": f"127.0.0.1:{listen}",
            "upstream": f"127.0.0.1:{self._upstream_port()}", "enabled": True,
        }]))

    def _await(self, name: str, timeout: float = 30.0) -> None:
        """Wait until a launched service answers its readiness check."""
        assert self._state is not None
        if name == "db":
            return
        svc = self._state.services[name]
        url = self._spec(name).ready_url
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if not procs.alive(svc.pid):
                raise StackError(f"{name} exited during start (see {self.log_path(name)}):\n{self.logs(name, 15)}")
            last = _http_health(url, timeout=1.0)
            if last == "healthy":
                return
            time.sleep(0.02)
        raise StartupTimeout(
            f"{name} did not become ready within {timeout:.0f} s ({last}); last log lines:\n{self.logs(name, 15)}"
        )

    def _stop(self, name: str) -> None:
        assert self._state is not None
        svc = self._state.services[name]
        if name == "db":
            self.cluster().stop(svc.pid)
        elif svc.pid:
            procs.stop_tree(svc.pid, self._spec(name).stop_signal, grace=10)
        svc.pid, svc.paused = None, False
        self._save()

    def _stop_all(self) -> None:
        """Stop every service in reverse start order, whatever state each is in."""
        assert self._state is not None
        errors = []
        for name in reversed(list(self._state.services)):
            try:
                self._stop(name)
            except Exception as exc:  # keep stopping the rest; report at the end
                errors.append(f"{name}: {exc}")
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
        self.stack._stop(self.name)

    def start(self) -> None:
        svc = self._svc()
        if procs.alive(svc.pid):
            raise UsageError(f"{self.name} is already running (pid {svc.pid})")
        self.stack._start(self.name)

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

    def kill(self, signal: str = "SIGKILL") -> None:
        """Send a signal to the service's main process (SIGKILL: the whole process tree)."""
        svc = self._svc()
        if not procs.alive(svc.pid):
            raise StackError(f"{self.name} is stopped; nothing to kill")
        assert svc.pid is not None
        number = getattr(_signal, kill_signal(signal))
        if number == _signal.SIGKILL:
            procs.signal_tree(svc.pid, number)
        else:
            os.kill(svc.pid, number)

    def logs(self, lines: int = 50) -> str:
        return self.stack.logs(self.name, lines)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _process_health(svc: ServiceState) -> str:
    if not procs.alive(svc.pid):
        return "stopped"
    if svc.paused:
        return "paused"
    return "healthy"


def _http_health(url: str, timeout: float = 2.0) -> str:
    if url.startswith("tcp://"):
        host, _, port = url.removeprefix("tcp://").rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=timeout).close()
            return "healthy"
        except OSError as exc:
            return f"unhealthy: {exc.strerror or exc}"
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
