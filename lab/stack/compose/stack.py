"""The compose stack's lifecycle: the same lab on a real Docker engine, one Compose project per team.

    gameday up --stack compose --name TEAM
      checks ─▶ the engine answers, a Compose CLI, the images are here, pinned ports are free
      files  ─▶ .gameday/TEAM/ state.json (kind compose), compose.env (0600: every variable of
                docker-compose.yml, passwords included), arcade.env (Arcade's settings),
                secrets.json (0600), toxiproxy.json
      up     ─▶ <compose> -p gameday-TEAM up -d --scale web=N     (the Compose CLI does up and down)
      wait   ─▶ db healthy and seeded (Compose's conditions), then Arcade, the proxy, loadgen answer

    host 127.0.0.1 ─▶ proxy `arcade` (web.port) ─▶ web × N ─▶ proxy `postgres` ─▶ [pgbouncer] ─▶ db
                   ─▶ proxy API (proxy.api_port)       ─▶ db (db.port: admin SQL, fault helpers)
                   ─▶ loadgen control (loadgen.control_port)

Everything but up, down, scale and recreate goes through the Docker SDK (containers.py): restart,
stop, start, pause, resume, kill, logs, stats. Host ports are chosen here and pinned, so they
survive container restarts.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2

from lab.errors import MissingDependencyError, PortInUseError, StackError, StackExistsError
from lab.stack import health, ports, procs
from lab.stack.base import SUPERUSER, Capabilities, EventStream, PgTarget, Progress, Service, StackStatus, no_progress
from lab.stack.common import StackBase
from lab.stack.compose import containers as engine_view
from lab.stack.compose.cli import Compose, compose_cli, seed_failed
from lab.stack.compose.files import RunFiles
from lab.stack.compose.env import (
    COMPOSE_NAME,
    RUN_DIR_LABEL,
    SERVICE_LABEL,
    enabled_services,
    project_name,
)
from lab.stack.compose.service import ComposeService
from lab.stack.config import StackConfig
from lab.stack.engine import engine
from lab.stack.state import ServiceState, StackState

WATCHDOG = "watchdog"  # the in-stack fault watchdog's service (and profile) in docker-compose.yml
LEFTOVERS = ("compose.env", "arcade.env", "toxiproxy.json")  # what `down` removes; secrets.json goes with the data


class ComposeStack(StackBase):
    """One compose stack, addressed by name under a run root (a Compose project gameday-NAME)."""

    kind = "compose"
    capabilities = Capabilities(containers=True, data_kept_on_down=False)

    def __init__(self, name: str = "default", root: Path | None = None, config: StackConfig | None = None):
        super().__init__(name, root, config)
        self.project = project_name(self.name)
        self.compose = Compose(self.project)
        self.files = RunFiles(self.name, self.run_dir)
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The Docker SDK client (the engine is asked once, when first needed)."""
        if self._client is None:
            self._client = engine()
        return self._client

    @property
    def project_api(self) -> engine_view.Project:
        return engine_view.Project(self.client, self.project)

    def enabled_services(self, config: StackConfig) -> tuple[str, ...]:
        return enabled_services(config)

    # --- lifecycle -------------------------------------------------------------------------

    def preflight(self) -> None:
        self.files.check_images(self.client, self.config)
        compose_cli()

    def is_up(self) -> bool:
        state = self._recorded()
        if state is None or state.mode != self.kind:
            return False
        try:
            return any(c["State"] in engine_view.LIVE for c in self.project_api.containers())
        except MissingDependencyError:
            return False

    def up(self, progress: Progress = no_progress) -> StackStatus:
        """Start the project and wait until every service answers; undo everything on failure."""
        compose_cli()  # fail early, before anything is written
        with self._lock():
            self._refuse_if_running()
            images = self.files.check_images(self.client, self.config)
            self.files.secrets(self.project_api.volume_exists())
            volume_existed = self.project_api.volume_exists()
            started = time.monotonic()
            for attempt in range(3):  # a free port we chose may be taken before Docker binds it
                state, env = self._prepare(images)
                try:
                    progress(f"docker compose up ({self.project}) ...")
                    self._compose("up", "-d", "--no-build", "--scale", f"web={self.config.web.workers}",
                                  *[COMPOSE_NAME[s] for s in state.services], WATCHDOG, env=env,
                                  profiles=_profiles(state))
                    progress("waiting for every service to answer ...")
                    for name in state.services:
                        self.await_service(name)
                    self.await_watchdog()
                    break
                except BaseException as exc:
                    with contextlib.suppress(Exception):
                        self._down(env, volumes=not volume_existed)
                    self.state_path.unlink(missing_ok=True)
                    pinned = set(ports.pinned(self.config).values())
                    lost_race = isinstance(exc, PortInUseError) and exc.port not in pinned
                    if not lost_race or attempt == 2:
                        raise
            progress(f"stack '{self.name}' healthy in {time.monotonic() - started:.2f} s")
        return self.status()

    def _prepare(self, images: dict[str, str]) -> tuple[StackState, dict[str, str]]:
        """Choose ports, write the state file and the files Compose reads; return both."""
        self._state = self._new_state(ports.allocate(self.config), "127.0.0.1", time.time())
        self._save()
        return self._state, self._write_files(self._state, images)

    def down(self, purge: bool = False, keep_data: bool = False) -> bool:
        """Remove the project's containers, network and anonymous volumes, and the database volume
        unless `keep_data`; True if anything was running. Idempotent."""
        if not self.run_dir.exists() and not self._has_containers():
            return False
        with self._lock():
            found = self.project_api.containers()
            was_up = any(c["State"] in engine_view.LIVE for c in found)
            if found or (not keep_data and self.project_api.volume_exists()):
                self._down(self.files.env(), volumes=not keep_data)
            self.state_path.unlink(missing_ok=True)
            for leftover in LEFTOVERS:
                (self.run_dir / leftover).unlink(missing_ok=True)
            if not keep_data:
                (self.run_dir / "secrets.json").unlink(missing_ok=True)
        if purge:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        return was_up

    def _down(self, env: dict[str, str], volumes: bool) -> None:
        anonymous = self.project_api.anonymous_volumes()
        for paused in self.project_api.containers(status="paused"):  # a frozen container cannot be stopped
            with contextlib.suppress(Exception):
                self.client.api.unpause(paused["Id"])
        args = ["down", "--remove-orphans", "--timeout", "10"]
        if volumes:
            args.append("--volumes")
        self._compose(*args, env=env, profiles=("pooler", WATCHDOG), timeout=300)
        for volume in anonymous:
            with contextlib.suppress(Exception):
                self.client.api.remove_volume(volume)

    def state(self) -> StackState:
        """The state file, with each service's pid (its first live container's main process, as
        the engine reports it; None when none runs) and paused flag read live from Docker."""
        state = self._read()
        found = self.project_api.containers()
        for name, svc in state.services.items():
            live = [c for c in _of(found, name) if c["State"] in engine_view.LIVE]
            svc.paused = bool(live) and all(c["State"] == "paused" for c in live)
            svc.pid = self.project_api.main_pid(live[0]["Id"]) if live else None
        return state

    # --- what the protocol asks of a kind ------------------------------------------------------

    def scale_web(self, workers: int) -> int:
        """Set the number of web containers (one Arcade worker each) through Compose."""
        self.check_workers(workers)
        state = self._load()
        if not self.project_api.running("web"):
            raise StackError("web is stopped; `gameday service start web` first")
        with self._lock():
            self._compose("up", "-d", "--no-deps", "--no-build", "--no-recreate", "--scale", f"web={workers}",
                          "web", env=self.files.env(), profiles=_profiles(state), timeout=300)
            if not procs.wait_until(lambda: len(self.project_api.running("web")) == workers, 30.0, 0.2):
                raise StackError(f"web did not reach {workers} containers; last log lines:\n{self.logs('web', 10)}")
            self.await_service("web")
            state.services["web"].workers = workers
            self._save()
        return workers

    def web_workers(self) -> list[int]:
        """Host pids of Arcade's worker processes (one per running web container)."""
        import psutil

        pids: list[int] = []
        for container in self.project_api.running("web"):
            master = self.project_api.main_pid(container["Id"]) or 0
            try:
                pids += [child.pid for child in psutil.Process(master).children()
                         if child.status() != psutil.STATUS_ZOMBIE]  # a killed worker not reaped yet
            except (psutil.Error, ValueError):
                continue
        return pids

    def admin_target(self, dbname: str = "postgres") -> PgTarget:
        """The superuser over the DB's published port (a reserved slot)."""
        state = self._read()
        return PgTarget(host="127.0.0.1", port=state.services["db"].port, user=SUPERUSER, dbname=dbname,
                        password=self.files.load_secrets()["superuser_password"])

    def follow_logs(self, service: str) -> Iterator[str]:
        self.logs(service, 0)  # checks the name
        return self.project_api.follow_logs(service)

    def stats(self) -> dict[str, dict[str, float]]:
        """CPU (% of one core) and memory (MB) of every running container, by container name."""
        return self.project_api.stats()

    def containers(self, service: str | None = None, running: bool = False) -> list[dict[str, Any]]:
        """The project's containers (of one service), in container-number order."""
        found = self.project_api.containers(service)
        return [c for c in found if c["State"] == "running"] if running else found

    def container_events(self, since: float) -> EventStream:
        return self.project_api.events(since)  # type: ignore[no-any-return]

    def stale(self, service: str) -> bool:
        """Whether the containers of a service were made from other settings than the stack's now
        (a setting changed that applies at the next restart): Compose's config hash says."""
        proc = self._compose("config", f"--hash={COMPOSE_NAME[service]}", env=self.files.env(),
                             profiles=_profiles(self._read()), timeout=60, check=False)
        wanted = proc.stdout.split()[-1] if proc.returncode == 0 and proc.stdout.split() else None
        have = {c["Labels"].get("com.docker.compose.config-hash") for c in self.project_api.containers(service)}
        return wanted is not None and have != {wanted}

    def recreate(self, service: str) -> None:
        """Recreate a service's containers from the stack's settings (a restart that applies them)."""
        state = self._read()
        with self._lock():
            self._compose("up", "-d", "--no-deps", "--no-build", "--force-recreate",
                          "--scale", f"web={self._web_count(state)}", COMPOSE_NAME[service],
                          env=self.files.env(), profiles=_profiles(state), timeout=300)
        self.await_service(service)

    def await_service(self, name: str, timeout: float = 60.0) -> None:
        """Wait until a service answers: db an admin connection, web every container's /healthz
        (from inside it), PgBouncer its port, the others their HTTP readiness URL."""
        state = self._read()
        ready = _ready_url(state, name)

        def check() -> str:
            found = self.project_api.containers(name)
            if not found:
                return "no container"
            if name == "db":
                try:
                    with contextlib.closing(self.admin_connect("postgres", timeout=2)):
                        return health.HEALTHY
                except psycopg2.Error as exc:
                    return health.first_line(exc)
            if name == "web":
                sick = [c for c in found if not health.in_container(self.client, c["Id"], ["http-ok", "8000", "/healthz"])]
                return f"{len(sick)} of {len(found)} web containers not answering /healthz" if sick else health.HEALTHY
            if name == "pooler":
                return health.tcp("127.0.0.1", state.services["pooler"].port)
            return health.http(ready, timeout=1.0)

        def gone() -> str | None:
            found = self.project_api.containers(name)
            if found and all(c["State"] in ("exited", "dead") for c in found):
                return f"exited: {found[0]['Status']}"
            return None

        health.wait_ready(name, check, lambda: self.logs(name, 15), timeout, gone, interval=0.1)

    # --- hooks of the common base ----------------------------------------------------------------

    def watchdog(self) -> dict[str, Any] | None:
        """The in-stack fault watchdog's container, if it runs."""
        return next(iter(self.project_api.running(WATCHDOG)), None)

    def await_watchdog(self, timeout: float = 30.0) -> None:
        """Wait until the fault watchdog runs and watches the journal (its first log line)."""
        def watching() -> bool:
            return self.watchdog() is not None and "watching" in self.project_api.logs(WATCHDOG, 20)

        if not procs.wait_until(watching, timeout, 0.2):
            tail = self.project_api.logs(WATCHDOG, 5).replace("\n", " | ") or "no output"
            raise StackError(f"stack '{self.name}': the fault watchdog did not start within {timeout:.0f} s ({tail})")

    def _handle(self, name: str) -> Service:
        return ComposeService(self, name)

    def _running(self, name: str) -> bool:
        return bool(self.project_api.running(name))

    def _db_running(self) -> tuple[bool, bool]:
        db = self.project_api.containers("db")
        state = db[0]["State"] if db else "missing"
        return state in engine_view.LIVE, state == "paused"

    def _health(self, name: str, svc: ServiceState) -> str:
        now = engine_view.health(self.project_api.containers(name))
        if now != health.HEALTHY or name == "db":
            return now
        if name == "pooler":
            return health.tcp("127.0.0.1", svc.port)
        return health.http(_ready_url(self._read(), name))

    def _detail(self, name: str, svc: ServiceState) -> dict[str, Any]:
        running = len(self.project_api.running(name))
        return {"workers": running} if name == "web" else {"containers": running}

    def _app_password(self) -> str:
        return self.files.load_secrets()["app_password"]

    def _apply_settings(self, restart: tuple[str, ...]) -> None:
        """Rewrite what Compose reads; recreate the `restart` services from it."""
        state = self._read()
        env = self._write_files(state)
        if restart:
            self._compose("up", "-d", "--no-deps", "--no-build", "--force-recreate",
                          "--scale", f"web={self._web_count(state)}", *[COMPOSE_NAME[s] for s in restart],
                          env=env, profiles=_profiles(state), timeout=300)
            for name in restart:
                self.await_service(name)

    def _start_pooler(self) -> None:
        env = self._write_files(self._read())
        self._compose("up", "-d", "--no-deps", "--no-build", "pgbouncer", env=env, profiles=("pooler",), timeout=300)
        self.await_service("pooler")

    def _stop_pooler(self) -> None:
        self._compose("rm", "--stop", "--force", "pgbouncer", env=self.files.env(), profiles=("pooler",))

    def _pooler_rolled_back(self) -> None:
        self._write_files(self._read())

    def _pooler_upstream(self) -> str:
        return "pgbouncer:6432"

    def _logs(self, service: str, lines: int) -> str:
        return self.project_api.logs(service, lines)

    # --- internals -------------------------------------------------------------------------

    def _compose(self, *args: str, env: dict[str, str], profiles: tuple[str, ...] = (), timeout: float = 600,
                 check: bool = True) -> subprocess.CompletedProcess[str]:
        """The Compose CLI for this project; a failed seed's error carries the seed's log."""
        try:
            return self.compose.run(*args, env=env, profiles=profiles, timeout=timeout, check=check)
        except StackError as exc:
            if seed_failed(exc):
                raise StackError(f"{exc}\nseed log:\n{self.project_api.logs('seed', 15)}") from None
            raise

    def _write_files(self, state: StackState, images: dict[str, str] | None = None) -> dict[str, str]:
        """Everything Compose reads for this stack, and Arcade's feature switches; the variables."""
        env = self.files.write(state, images or self.files.recorded_images())
        self._write_features(StackConfig.model_validate(state.config).web.disabled_features)
        return env

    def _has_containers(self) -> bool:
        try:
            return bool(self.project_api.containers())
        except MissingDependencyError:
            return False

    def _web_count(self, state: StackState) -> int:
        return len(self.project_api.running("web")) or state.services["web"].workers or 1

    def _refuse_if_running(self) -> None:
        existing = StackState.load(self.state_path)
        if existing is not None and existing.mode != self.kind:
            from lab.stack.open import open_stack

            if open_stack(self.name, self.root).is_up():
                raise StackExistsError(f"stack '{self.name}' is already up on the {existing.mode} stack; "
                                       f"`gameday down --name {self.name}` stops it, or choose another --name")
        found = self.project_api.containers()
        live = [c for c in found if c["State"] in engine_view.LIVE]
        if live:
            owner = next((c["Labels"].get(RUN_DIR_LABEL) for c in live if c["Labels"].get(RUN_DIR_LABEL)), None)
            where = "" if owner in (None, str(self.run_dir)) else f" from another run root ({owner})"
            raise StackExistsError(
                f"stack '{self.name}' is already up (Compose project {self.project}){where}; "
                f"`gameday down --name {self.name}` stops it, or choose another --name")
        if found:  # stopped leftovers of a crash: clear them, keep the data
            self._down(self.files.env(), volumes=False)


def _of(found: list[dict[str, Any]], service: str) -> list[dict[str, Any]]:
    return [c for c in found if c["Labels"].get(SERVICE_LABEL) == COMPOSE_NAME[service]]


def _profiles(state: StackState) -> tuple[str, ...]:
    return (WATCHDOG, "pooler") if "pooler" in state.services else (WATCHDOG,)


def _ready_url(state: StackState, name: str) -> str:
    port = state.services[name].port
    return {
        "web": f"http://127.0.0.1:{port}/readyz",
        "proxy": f"http://127.0.0.1:{port}/proxies/postgres",
        "loadgen": f"http://127.0.0.1:{port}/healthz",
        "pooler": f"tcp://127.0.0.1:{port}",
        "db": f"tcp://127.0.0.1:{port}",
    }[name]
