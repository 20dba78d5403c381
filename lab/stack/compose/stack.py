"""The compose stack: the same lab on a real Docker engine, one Compose project per team.

    gameday up --stack compose --name TEAM
      checks ─▶ the engine answers, a Compose CLI, the images are here, pinned ports are free
      files  ─▶ .gameday/TEAM/ state.json (mode compose), compose.env (0600: every variable of
                docker-compose.yml, passwords included), secrets.json (0600), toxiproxy.json
      up     ─▶ <compose> -p gameday-TEAM up -d --scale web=N     (the Compose CLI does up and down)
      wait   ─▶ db healthy and seeded (Compose's conditions), then Arcade, Toxiproxy, loadgen answer

    host 127.0.0.1 ─▶ toxiproxy `arcade` (web.port) ─▶ web × N ─▶ toxiproxy `postgres` ─▶ db
                   ─▶ toxiproxy API (proxy.api_port)     ─▶ db (db.port: admin SQL, fault holders)
                   ─▶ loadgen control (loadgen.control_port)  ─▶ [pgbouncer (pooler.port)]

Everything but up and down goes through the Docker SDK, containers found by their Compose labels:
restart, stop, start, pause (docker pause), resume, kill, logs, stats; scaling the web tier is
`up --scale` (one container per Arcade worker). Host ports are chosen here and pinned, so they
survive container restarts. The methods mirror LocalStack's, so faults, actions, the runner and
the monitor work on either.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import fcntl
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg2

from lab.errors import (
    MissingDependencyError,
    PortInUseError,
    StackError,
    StackExistsError,
    StackNotFoundError,
    StartupTimeout,
    UsageError,
)
from lab.stack import images as image_choice
from lab.stack import procs
from lab.stack.base import Capabilities, EventStream, PgTarget, ServiceStatus, StackStatus
from lab.stack.config import StackConfig, apply_overrides
from lab.stack.engine import compose_cli, engine
from lab.stack.postgres import connect_retrying
from lab.stack.compose.env import (
    ALL_SERVICES,
    APP_DB,
    APP_ROLE,
    COMPOSE_NAME,
    PORT_KEYS,
    PROJECT_LABEL,
    PROXY_NAME,
    RUN_DIR_LABEL,
    SERVICE_LABEL,
    SUPERUSER,
    compose_env,
    compose_file,
    enabled_services,
    project_name,
    toxiproxy_config,
)
from lab.stack.compose.service import (
    ComposeService,
    container_health,
    exec_ok,
    first_line,
    http_health,
    tcp_health,
)
from lab.stack.state import ServiceState, StackState, check_name, default_root

Progress = Callable[[str], None]


class ComposeStack:
    """One compose stack, addressed by name under a run root (a Compose project gameday-NAME)."""

    kind = mode = "compose"
    capabilities = Capabilities(containers=True, data_kept_on_down=False)

    def __init__(self, name: str = "default", root: Path | None = None, config: StackConfig | None = None):
        self.name = check_name(name)
        self.root = Path(root) if root is not None else default_root()
        self.run_dir = (self.root / self.name).absolute()
        self.config = config or StackConfig()
        self.state_path = self.run_dir / "state.json"
        self.project = project_name(self.name)
        self._state: StackState | None = None
        self._client = None

    # --- engine and Compose ----------------------------------------------------------------

    @property
    def client(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            self._client = engine()
        return self._client

    def _compose(self, *args: str, env: dict[str, str], profiles: tuple[str, ...] = (), timeout: float = 600,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        cli = compose_cli()
        argv = [*cli.argv, "--project-name", self.project, "--file", str(compose_file()),
                "--project-directory", str(compose_file().parent)]
        for profile in profiles:
            argv += ["--profile", profile]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_") or k == "LAB_COMPOSE"}
        full_env.update(env)
        full_env.setdefault("COMPOSE_HTTP_TIMEOUT", "300")
        try:
            proc = subprocess.run([*argv, *args], env=full_env, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise StackError(f"`{cli} {' '.join(args[:2])}` did not finish within {timeout:.0f} s") from None
        if check and proc.returncode != 0:
            raise self._compose_error(proc, env)
        return proc

    def _compose_error(self, proc: subprocess.CompletedProcess[str], env: dict[str, str]) -> Exception:
        text = (proc.stderr or "") + (proc.stdout or "")
        for line in text.splitlines():
            if "already allocated" in line or "address already in use" in line:
                found = re.findall(r"(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)", line)
                number = int(found[0]) if found else 0
                key = next((k for k, var in PORT_KEYS.values() if number and env.get(var) == str(number)), "a port")
                error = PortInUseError(f"{key}: port {number} on 127.0.0.1 is already in use; "
                                       "choose another or set it to 0 for a free one")
                error.port = number  # type: ignore[attr-defined]
                return error
        seed = "seed" in text and ("didn't complete successfully" in text or "exit" in text)
        lines = [line for line in text.strip().splitlines() if line.strip()][-8:]
        detail = "\n".join(lines)
        if seed:
            detail += "\nseed log:\n" + self._container_logs("seed", 15)
        return StackError(f"docker compose failed (exit {proc.returncode}):\n{detail}")

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def services(self) -> tuple[str, ...]:
        state = StackState.load(self.state_path)
        return tuple(state.services) if state else enabled_services(self.config)

    def is_up(self) -> bool:
        state = StackState.load(self.state_path)
        if state is None:
            return False
        try:
            return any(c["State"] in ("running", "paused") for c in self._raw_containers())
        except MissingDependencyError:
            return False

    def up(self, progress: Progress = lambda _msg: None) -> StackStatus:
        """Start the project and wait until every service answers; undo everything on failure."""
        client = self.client
        compose_cli()  # fail early, before anything is written
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            self._refuse_if_running()
            images = self._check_images(client)
            self._secrets()
            volume_existed = self._volume_exists()
            started = time.monotonic()
            for attempt in range(3):  # a free port we chose may be taken before Docker binds it
                env = self._prepare(images)
                try:
                    progress(f"docker compose up ({self.project}) ...")
                    self._compose("up", "-d", "--no-build", "--scale", f"web={self.config.web.workers}",
                                  *[COMPOSE_NAME[s] for s in self._state.services], env=env,  # type: ignore[union-attr]
                                  profiles=self._profiles(), timeout=600)
                    progress("waiting for every service to answer ...")
                    for name in self._state.services:  # type: ignore[union-attr]
                        self._await(name)
                    break
                except BaseException as exc:
                    with contextlib.suppress(Exception):
                        self._down(env, volumes=not volume_existed)
                    self.state_path.unlink(missing_ok=True)
                    pinned = set(self.config.explicit_ports().values())
                    lost_race = isinstance(exc, PortInUseError) and getattr(exc, "port", None) not in pinned
                    if not lost_race or attempt == 2:
                        raise
            progress(f"stack '{self.name}' healthy in {time.monotonic() - started:.2f} s")
        return self.status()

    def _prepare(self, images: dict[str, str]) -> dict[str, str]:
        """Choose ports, write the state file, compose.env and toxiproxy.json; return the variables."""
        ports = self._allocate_ports()
        services = enabled_services(self.config)
        self._state = StackState(
            name=self.name, mode=self.mode, config=self.config.model_dump(),
            services={name: ServiceState(port=ports[name]) for name in services},
            sockdir="127.0.0.1", started_at=time.time(),
        )
        self._state.services["proxy"].extra["listen_port"] = ports["proxy.listen"]
        self._state.services["web"].workers = self.config.web.workers
        self._save()
        return self._write_env(images)

    def down(self, purge: bool = False, keep_data: bool = False) -> bool:
        """Remove the project's containers, network and anonymous volumes, and the database volume
        unless `keep_data`; True if anything was running. Idempotent."""
        if not self.run_dir.exists() and not self._has_containers():
            return False
        self.run_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            containers = self._raw_containers()
            was_up = any(c["State"] in ("running", "paused") for c in containers)
            if containers or (not keep_data and self._volume_exists()):
                self._down(self._env(), volumes=not keep_data)
            self.state_path.unlink(missing_ok=True)
            for leftover in ("compose.env", "toxiproxy.json"):
                (self.run_dir / leftover).unlink(missing_ok=True)
            if not keep_data:
                (self.run_dir / "secrets.json").unlink(missing_ok=True)
        if purge:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return was_up

    def _down(self, env: dict[str, str], volumes: bool) -> None:
        anonymous = self._anonymous_volumes()
        for paused in self._raw_containers(status="paused"):  # a frozen container cannot be stopped
            with contextlib.suppress(Exception):
                self.client.api.unpause(paused["Id"])
        args = ["down", "--remove-orphans", "--timeout", "10"]
        if volumes:
            args.append("--volumes")
        self._compose(*args, env=env, profiles=("pooler",), timeout=300)
        for volume in anonymous:
            with contextlib.suppress(Exception):
                self.client.api.remove_volume(volume)

    # --- per-service operations ------------------------------------------------------------

    def service(self, name: str) -> ComposeService:
        state = self._require_up()
        if name not in state.services:
            raise UsageError(f"unknown service '{name}'; this stack runs: {', '.join(state.services)}")
        return ComposeService(self, name)

    def scale_web(self, workers: int) -> int:
        """Set the number of web containers (one Arcade worker each) through Compose."""
        if not 1 <= workers <= 64:
            raise UsageError(f"workers: {workers} is out of range; valid: 1-64")
        state = self._load_state()
        if not self._running("web"):
            raise StackError("web is stopped; `gameday service start web` first")
        with self._lock():
            self._compose("up", "-d", "--no-deps", "--no-build", "--no-recreate", "--scale", f"web={workers}",
                          "web", env=self._env(), profiles=self._profiles(), timeout=300)
            if not procs.wait_until(lambda: len(self._running("web")) == workers, 30.0, 0.2):
                raise StackError(f"web did not reach {workers} containers; last log lines:\n{self.logs('web', 10)}")
            self._await("web")
            state.services["web"].workers = workers
            self._save()
        return workers

    def reconfigure(self, overrides: list[str], restart: tuple[str, ...]) -> StackConfig:
        """Change settings of the running stack (`key=value`), recreating the `restart` services."""
        state = self._load_state()
        new = apply_overrides(StackConfig.model_validate(state.config), overrides)
        with self._lock():
            state.config = new.model_dump()
            self._save()
            env = self._write_env(self._recorded_images())
            if restart:
                self._compose("up", "-d", "--no-deps", "--no-build", "--force-recreate",
                              "--scale", f"web={self._web_count(state)}", *[COMPOSE_NAME[s] for s in restart],
                              env=env, profiles=self._profiles(), timeout=300)
                for name in restart:
                    self._await(name)
        return new

    def settings(self) -> StackConfig:
        return StackConfig.model_validate(self._load_state().config)

    def web_workers(self) -> list[int]:
        """Host pids of Arcade's worker processes (one per running web container)."""
        pids: list[int] = []
        for container in self._running("web"):
            master = self.client.api.inspect_container(container["Id"])["State"].get("Pid") or 0
            try:
                pids += [child.pid for child in psutil.Process(master).children()
                         if child.status() != psutil.STATUS_ZOMBIE]  # a killed worker not reaped yet
            except (psutil.Error, ValueError):
                continue
        return pids

    def sql(self, query: str, params: tuple[Any, ...] = (), dbname: str = APP_DB) -> list[tuple[Any, ...]]:
        """Admin SQL as the superuser over the DB's published port (a reserved slot)."""
        self._load_state()
        db = self._raw_containers("db")
        if db and db[0]["State"] == "paused":
            raise StackError("db is paused; `gameday service resume db` first")
        if not db or db[0]["State"] != "running":
            raise StackError("db is stopped; `gameday service start db` first")
        with contextlib.closing(self._admin_connect(dbname)) as conn, conn.cursor() as cur:
            cur.execute(query, params or None)
            return list(cur.fetchall()) if cur.description else []

    def _admin_connect(self, dbname: str, timeout: float = 3) -> psycopg2.extensions.connection:
        """Retried while every slot is briefly held by doomed non-superuser attempts (a storm)."""
        return connect_retrying(self.admin_dsn(dbname, timeout), timeout)

    def admin_dsn(self, dbname: str = "postgres", timeout: float = 3) -> str:
        state = self._load_state()
        creds = self._load_secrets()
        return (f"host=127.0.0.1 port={state.services['db'].port} dbname={dbname} user={SUPERUSER} "
                f"password={creds['superuser_password']} connect_timeout={max(2, int(timeout))} "
                "application_name=gameday-admin")

    def admin_target(self, dbname: str = "postgres") -> PgTarget:
        """The superuser over the DB's published port (a reserved slot)."""
        state = self._load_state()
        return PgTarget(host="127.0.0.1", port=state.services["db"].port, user=SUPERUSER, dbname=dbname,
                        password=self._load_secrets()["superuser_password"])

    def state(self) -> StackState:
        return self._require_up()

    def preflight(self) -> None:
        self._check_images(self.client)
        compose_cli()

    def shell_env(self) -> dict[str, str]:
        return {}

    def containers(self, service: str | None = None, running: bool = False) -> list[dict[str, Any]]:
        """The project's containers (of one service), in container-number order."""
        found = self._raw_containers(service)
        return [c for c in found if c["State"] == "running"] if running else found

    def container_events(self, since: float) -> EventStream:
        """The engine's container events for this project (create, start, die, destroy) from `since`."""
        filters = {"type": "container", "event": ["create", "start", "die", "destroy"],
                   "label": [f"{PROJECT_LABEL}={self.project}"]}
        return self.client.events(decode=True, filters=filters, since=int(since))  # type: ignore[no-any-return]

    def logs(self, service: str, lines: int = 50) -> str:
        if service not in ALL_SERVICES:
            raise UsageError(f"unknown service '{service}'; valid: {', '.join(ALL_SERVICES)}")
        return self._container_logs(COMPOSE_NAME[service], lines)

    def follow_logs(self, service: str) -> Iterator[str]:
        """New log lines of a service as they come (every container of it)."""
        containers = self._raw_containers(service)
        if not containers:
            return iter(())
        stream = self.client.api.logs(containers[-1]["Id"], stream=True, follow=True, tail=0)
        return (chunk.decode("utf-8", "replace") for chunk in stream)

    def _container_logs(self, compose_service: str, lines: int) -> str:
        out = []
        containers = self._raw_containers(compose_service)
        for c in containers:
            text = self.client.api.logs(c["Id"], tail=lines).decode("utf-8", "replace")
            if len(containers) > 1:
                label = c["Names"][0].lstrip("/")
                text = "".join(f"{label} | {line}\n" for line in text.splitlines())
            out.append(text)
        joined = "".join(out).splitlines()
        return "\n".join(joined[-lines:])

    def address(self, service: str) -> str:
        state = self._load_state()
        if service not in state.services:
            raise UsageError(f"stack '{self.name}' runs no '{service}' service")
        return f"127.0.0.1:{state.services[service].port}"

    def stats(self) -> dict[str, dict[str, float]]:
        """CPU (% of one core) and memory (MB) of every running container, by container name."""
        running = [c for c in self._raw_containers() if c["State"] == "running"]

        def one(container: dict[str, Any]) -> tuple[str, dict[str, float]]:
            raw = self.client.api.stats(container["Id"], stream=False)
            cpu = raw.get("cpu_stats", {})
            pre = raw.get("precpu_stats", {})
            used = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
            system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
            cores = cpu.get("online_cpus") or 1
            percent = 100.0 * used / system * cores if system > 0 else 0.0
            mem = raw.get("memory_stats", {}).get("usage", 0) / 1e6
            return container["Names"][0].lstrip("/"), {"cpu_percent": round(percent, 1), "mem_mb": round(mem, 1)}

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return dict(pool.map(one, running))

    # --- the pooler ------------------------------------------------------------------------

    def enable_pooler(self, progress: Progress = lambda _msg: None) -> dict[str, Any]:
        """Put PgBouncer between Arcade and PostgreSQL: the `pgbouncer` service (profile pooler),
        then Toxiproxy's upstream moved to it (or, without the proxy in Arcade's path, web recreated)."""
        state = self._load_state()
        cfg = StackConfig.model_validate(state.config)
        summary = {"pool_mode": cfg.pooler.pool_mode, "pool_size": cfg.pooler.pool_size}
        if "pooler" in state.services and self._running("pooler"):
            return {**summary, "port": state.services["pooler"].port, "already_enabled": True}
        with self._lock():
            port = cfg.pooler.port or self._free_port(set(s.port for s in state.services.values()))
            if cfg.pooler.port and procs.port_in_use(port):
                raise PortInUseError(f"pooler.port: port {port} on 127.0.0.1 is already in use; set it to 0")
            previous_config, previous_services = state.config, dict(state.services)
            state.config = cfg.model_copy(update={"pooler": cfg.pooler.model_copy(update={"enabled": True})}).model_dump()
            order = [n for n in ALL_SERVICES if n in state.services or n == "pooler"]
            state.services = {n: previous_services.get(n) or ServiceState(port=port) for n in order}
            self._save()
            env = self._write_env(self._recorded_images())
            try:
                progress("starting PgBouncer ...")
                self._compose("up", "-d", "--no-deps", "--no-build", "pgbouncer", env=env, profiles=("pooler",),
                              timeout=300)
                self._await("pooler")
            except BaseException:
                with contextlib.suppress(Exception):
                    self._compose("rm", "--stop", "--force", "pgbouncer", env=env, profiles=("pooler",))
                state.config, state.services = previous_config, previous_services
                self._save()
                self._write_env(self._recorded_images())
                raise
            if cfg.proxy.enabled:
                body = json.dumps({"upstream": "pgbouncer:6432"}).encode()
                request = urllib.request.Request(f"http://{self.address('proxy')}/proxies/{PROXY_NAME}", data=body,
                                                 method="POST", headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=5) as resp:
                    resp.read()
                via = "proxy upstream moved to PgBouncer"
            else:
                progress("recreating Arcade with PgBouncer's address ...")
                self._compose("up", "-d", "--no-deps", "--no-build", "--force-recreate",
                              "--scale", f"web={self._web_count(state)}", "web", env=env, profiles=("pooler",))
                self._await("web")
                via = "Arcade recreated with PgBouncer's address"
        return {**summary, "port": port, "already_enabled": False, "via": via}

    # --- what the rest of the lab reads -------------------------------------------------------

    def status(self) -> StackStatus:
        state = self._require_up()
        rows: list[ServiceStatus] = []
        used = max_conn = None
        containers = self._raw_containers()
        for name, svc in state.services.items():
            mine = [c for c in containers if c["Labels"].get(SERVICE_LABEL) == COMPOSE_NAME[name]]
            health = container_health(mine)
            detail: dict[str, Any] = {"containers": len([c for c in mine if c["State"] == "running"])}
            if health == "healthy":
                if name == "db":
                    try:
                        (used, max_conn), = self.sql(
                            "SELECT count(*) FILTER (WHERE backend_type = 'client backend'),"
                            " current_setting('max_connections')::int FROM pg_stat_activity", dbname="postgres")
                    except (psycopg2.Error, StackError) as exc:
                        health = f"unhealthy: {first_line(exc)}"
                elif name == "pooler":
                    health = tcp_health(svc.port)
                else:
                    health = http_health(self._ready_url(name))
            if name == "web":
                detail["workers"] = detail.pop("containers")
            if name == "proxy":
                detail["listen"] = f"127.0.0.1:{svc.extra.get('listen_port')}"
            pid = state.services[name].pid
            rows.append(ServiceStatus(name, pid, f"127.0.0.1:{svc.port}", health, detail))
        return StackStatus(name=self.name, mode=self.mode, services=rows, db_connections_used=used,
                           db_max_connections=max_conn, urls=self.urls())

    def urls(self) -> dict[str, str]:
        svc = self._load_state().services
        urls = {
            "arcade": f"http://127.0.0.1:{svc['web'].port}/",
            "metrics": f"http://127.0.0.1:{svc['web'].port}/metrics",
            "postgres": f"postgresql://{APP_ROLE}@127.0.0.1:{svc['db'].port}/{APP_DB}",
            "toxiproxy": f"http://127.0.0.1:{svc['proxy'].port}",
        }
        if "pooler" in svc:
            urls["pgbouncer"] = f"postgresql://{APP_ROLE}@127.0.0.1:{svc['pooler'].port}/{APP_DB}"
        if "loadgen" in svc:
            urls["loadgen"] = f"http://127.0.0.1:{svc['loadgen'].port}"
        return urls

    def db_endpoint(self) -> int:
        """The host port in front of Arcade's database path: Toxiproxy's `postgres` listener."""
        state = self._load_state()
        return int(state.services["proxy"].extra["listen_port"])

    def app_dsn(self, via_proxy: bool = True, application_name: str = "arcade") -> str:
        """Arcade's role from the host: through Toxiproxy's `postgres` listener, or straight to the DB."""
        state = self._load_state()
        port = self.db_endpoint() if via_proxy else state.services["db"].port
        return (f"host=127.0.0.1 port={port} dbname={APP_DB} user={APP_ROLE} "
                f"password={self._load_secrets()['app_password']} application_name={application_name}")

    def _load_state(self) -> StackState:
        """The state file (no call to the engine); StackNotFoundError when the stack is not up."""
        state = StackState.load(self.state_path)
        if state is None or state.mode != self.mode:
            raise StackNotFoundError(f"stack '{self.name}' is not up; "
                                     f"`gameday up --stack compose --name {self.name}` starts it")
        self._state = state
        return state

    def _require_up(self) -> StackState:
        """The state file, with each service's pid (its first container's main process, as the
        engine reports it) and paused flag read live from Docker."""
        state = self._load_state()
        containers = self._raw_containers()
        for name, svc in state.services.items():
            mine = [c for c in containers if c["Labels"].get(SERVICE_LABEL) == COMPOSE_NAME[name]]
            live = [c for c in mine if c["State"] in ("running", "paused")]
            svc.paused = bool(live) and all(c["State"] == "paused" for c in live)
            svc.pid = None
            if live:
                with contextlib.suppress(Exception):
                    svc.pid = int(self.client.api.inspect_container(live[0]["Id"])["State"]["Pid"]) or None
        self._state = state
        return state

    # --- internals -------------------------------------------------------------------------

    def _raw_containers(self, service: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The project's containers (one API call), in container-number order."""
        labels = [f"{PROJECT_LABEL}={self.project}"]
        if service is not None:
            labels.append(f"{SERVICE_LABEL}={COMPOSE_NAME.get(service, service)}")
        filters: dict[str, Any] = {"label": labels}
        if status:
            filters["status"] = status
        found = self.client.api.containers(all=True, filters=filters)
        found = [c for c in found if c["Labels"].get("com.docker.compose.oneoff", "False") != "True"]
        return sorted(found, key=lambda c: int(c["Labels"].get("com.docker.compose.container-number", "0") or 0))

    def _running(self, service: str) -> list[dict[str, Any]]:
        return [c for c in self._raw_containers(service) if c["State"] == "running"]

    def _has_containers(self) -> bool:
        try:
            return bool(self._raw_containers())
        except MissingDependencyError:
            return False

    def _web_count(self, state: StackState) -> int:
        return len(self._running("web")) or state.services["web"].workers or 1

    def _volume_name(self) -> str:
        return f"{self.project}_db-data"

    def _volume_exists(self) -> bool:
        import docker.errors

        try:
            self.client.api.inspect_volume(self._volume_name())
            return True
        except docker.errors.NotFound:
            return False

    def _anonymous_volumes(self) -> list[str]:
        """Volumes of the project's containers that nobody named (an image's VOLUME)."""
        out = []
        for c in self._raw_containers():
            for mount in c.get("Mounts", []):
                if mount.get("Type") == "volume" and re.fullmatch(r"[0-9a-f]{64}", mount.get("Name", "")):
                    out.append(mount["Name"])
        return out

    def _refuse_if_running(self) -> None:
        existing = StackState.load(self.state_path)
        if existing is not None and existing.mode != self.mode:
            from lab.stack.local import LocalStack

            if LocalStack(self.name, self.root).is_up():
                raise StackExistsError(f"stack '{self.name}' is already up on the local stack; "
                                       f"`gameday down --name {self.name}` stops it, or choose another --name")
        containers = self._raw_containers()
        live = [c for c in containers if c["State"] in ("running", "paused")]
        if live:
            owner = next((c["Labels"].get(RUN_DIR_LABEL) for c in live if c["Labels"].get(RUN_DIR_LABEL)), None)
            where = "" if owner in (None, str(self.run_dir)) else f" from another run root ({owner})"
            raise StackExistsError(
                f"stack '{self.name}' is already up (Compose project {self.project}){where}; "
                f"`gameday down --name {self.name}` stops it, or choose another --name")
        if containers:  # stopped leftovers of a crash: clear them, keep the data
            self._down(self._env(), volumes=False)

    def _check_images(self, client) -> dict[str, str]:  # type: ignore[no-untyped-def]
        wanted = image_choice.chosen()
        needed = {"LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE", "LAB_IMAGE"}
        if getattr(self.config, "pooler", None) is not None and self.config.pooler.enabled:
            needed.add("LAB_PGBOUNCER_IMAGE")
        missing = [f"{var}={wanted[var]}" for var in sorted(needed) if not image_choice.present(client, wanted[var])]
        if missing:
            raise MissingDependencyError(
                f"images not present here: {', '.join(missing)}; `gameday images build` pulls and builds them "
                "(`gameday images build --offline` where no registry answers)")
        return wanted

    def _recorded_images(self) -> dict[str, str]:
        env = self._read_env_file()
        return {var: env.get(var) or image_choice.chosen()[var] for var in image_choice.VARIABLES}

    def _allocate_ports(self) -> dict[str, int]:
        pinned = {slot: getattr(getattr(self.config, key.split(".")[0], None), key.split(".")[1], 0)
                  for slot, (key, _var) in PORT_KEYS.items()}
        for slot, port in pinned.items():
            if port and procs.port_in_use(port):
                raise PortInUseError(f"{PORT_KEYS[slot][0]}: port {port} on 127.0.0.1 is already in use; "
                                     "choose another or set it to 0 for a free port")
        taken = {p for p in pinned.values() if p}
        chosen: dict[str, int] = {}
        for slot, port in pinned.items():
            chosen[slot] = port or self._free_port(taken)
            taken.add(chosen[slot])
        return chosen

    @staticmethod
    def _free_port(taken: set[int]) -> int:
        while True:
            port = procs.free_port()
            if port not in taken:
                return port

    def _secrets(self) -> dict[str, str]:
        """The two passwords of this stack's database, made once and kept with its volume."""
        path = self.run_dir / "secrets.json"
        if path.exists() and self._volume_exists():
            return self._load_secrets()
        creds = {"superuser_password": secrets.token_urlsafe(18), "app_password": secrets.token_urlsafe(18)}
        path.write_text(json.dumps(creds))
        path.chmod(0o600)
        return creds

    def _load_secrets(self) -> dict[str, str]:
        try:
            return json.loads((self.run_dir / "secrets.json").read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            raise StackError(f"{self.run_dir / 'secrets.json'}: missing or unreadable; "
                             f"`gameday down --name {self.name}` and up again") from None

    def _write_env(self, images: dict[str, str]) -> dict[str, str]:
        """compose.env (0600) and toxiproxy.json from the state; return the variables."""
        assert self._state is not None
        config = StackConfig.model_validate(self._state.config)
        ports = {name: svc.port for name, svc in self._state.services.items()}
        ports["proxy.listen"] = int(self._state.services["proxy"].extra["listen_port"])
        env = compose_env(self.name, self.run_dir, config, ports, self._load_secrets(), images)
        path = self.run_dir / "compose.env"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
        os.replace(tmp, path)
        pooled = "pooler" in self._state.services
        proxies = self.run_dir / "toxiproxy.json"
        proxies.write_text(json.dumps(toxiproxy_config(pooled), indent=2))
        proxies.chmod(0o644)
        self._write_features(list(getattr(config.web, "disabled_features", [])))
        return env

    def _write_features(self, disabled: list[str]) -> None:
        """Arcade's switches file in the folder the web containers mount (replaced atomically;
        Arcade re-reads it within half a second)."""
        folder = self.run_dir / "web"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o755)
        tmp = folder / "features.tmp"
        tmp.write_text(json.dumps({"disabled": sorted(disabled)}))
        tmp.chmod(0o644)
        os.replace(tmp, folder / "features.json")

    def set_disabled_features(self, disabled: list[str]) -> list[str]:
        """Switch Arcade's features off (or back on) while it runs; no restart."""
        state = self._load_state()
        cfg = StackConfig.model_validate(state.config)
        new = cfg.model_copy(update={"web": cfg.web.model_copy(update={"disabled_features": sorted(set(disabled))})})
        with self._lock():
            state.config = new.model_dump()
            self._save()
            self._write_features(new.web.disabled_features)
        return list(new.web.disabled_features)

    def stale(self, service: str) -> bool:
        """Whether the containers of a service were made from other settings than the stack's now
        (a setting changed that applies at the next restart): Compose's config hash says."""
        proc = self._compose("config", f"--hash={COMPOSE_NAME[service]}", env=self._env(), profiles=self._profiles(),
                             timeout=60, check=False)
        wanted = proc.stdout.split()[-1] if proc.returncode == 0 and proc.stdout.split() else None
        have = {c["Labels"].get("com.docker.compose.config-hash") for c in self._raw_containers(service)}
        return wanted is not None and have != {wanted}

    def recreate(self, service: str) -> None:
        """Recreate a service's containers from the stack's settings (a restart that applies them)."""
        state = self._load_state()
        with self._lock():
            self._compose("up", "-d", "--no-deps", "--no-build", "--force-recreate",
                          "--scale", f"web={self._web_count(state)}", COMPOSE_NAME[service],
                          env=self._env(), profiles=self._profiles(), timeout=300)
        self._load_state()
        self._await(service)

    def _read_env_file(self) -> dict[str, str]:
        try:
            lines = (self.run_dir / "compose.env").read_text().splitlines()
        except OSError:
            return {}
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def _env(self) -> dict[str, str]:
        """The variables of the last up, or placeholders good enough for `down` after a crash."""
        env = self._read_env_file()
        if not env:
            env = {"LAB_DB_SUPERUSER_PASSWORD": "unused", "LAB_ARCADE_DB_PASSWORD": "unused",
                   "LAB_STACK": self.name, "LAB_RUN_DIR": str(self.run_dir), **image_choice.chosen()}
        return env

    def _profiles(self) -> tuple[str, ...]:
        state = self._state
        return ("pooler",) if state is not None and "pooler" in state.services else ()

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

    def _ready_url(self, name: str) -> str:
        assert self._state is not None
        port = self._state.services[name].port
        return {
            "web": f"http://127.0.0.1:{port}/readyz",
            "proxy": f"http://127.0.0.1:{port}/proxies/{PROXY_NAME}",
            "loadgen": f"http://127.0.0.1:{port}/healthz",
        }[name]

    def _await(self, name: str, timeout: float = 60.0) -> None:
        """Wait until a service answers: db an admin query, web every container's /healthz and the
        site through the edge, the others their HTTP or TCP port."""
        assert self._state is not None
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            containers = self._raw_containers(name)
            if not containers:
                last = "no container"
            elif all(c["State"] in ("exited", "dead") for c in containers):
                last = f"exited: {containers[0]['Status']}"
                break
            elif name == "db":
                try:
                    with contextlib.closing(self._admin_connect("postgres", timeout=2)):
                        return
                except psycopg2.Error as exc:
                    last = first_line(exc)
            elif name == "web":
                sick = [c for c in containers if not exec_ok(self.client, c["Id"], ["http-ok", "8000", "/healthz"])]
                if not sick:
                    return
                last = f"{len(sick)} of {len(containers)} web containers not answering /healthz"
            elif name == "pooler":
                last = tcp_health(self._state.services["pooler"].port)
                if last == "healthy":
                    return
            else:
                last = http_health(self._ready_url(name), timeout=1.0)
                if last == "healthy":
                    return
            time.sleep(0.1)
        raise StartupTimeout(
            f"{name} did not become ready within {timeout:.0f} s ({last}); last log lines:\n{self.logs(name, 15)}")


def remove_orphans(client) -> list[str]:  # type: ignore[no-untyped-def]
    """Remove the compose stacks whose run directory is gone (a temporary run root deleted while
    its stack ran, a killed test run): containers, networks and volumes. Returns their projects."""
    import docker.errors

    projects: dict[str, str] = {}
    for c in client.api.containers(all=True, filters={"label": [RUN_DIR_LABEL]}):
        run_dir = c["Labels"].get(RUN_DIR_LABEL, "")
        project = c["Labels"].get(PROJECT_LABEL, "")
        if run_dir and project.startswith("gameday-") and not Path(run_dir).exists():
            projects[project] = run_dir
    for project in projects:
        label = {"label": [f"{PROJECT_LABEL}={project}"]}
        for c in client.api.containers(all=True, filters=label):
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_container(c["Id"], force=True, v=True)
        for network in client.api.networks(filters=label):
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_network(network["Id"])
        for volume in (client.api.volumes(filters=label) or {}).get("Volumes") or []:
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_volume(volume["Name"])
    return sorted(projects)
