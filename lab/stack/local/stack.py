"""The embedded stack's lifecycle: PostgreSQL, [PgBouncer], the fault proxy, Arcade and the load
generator as local processes under the stack's run dir.

    .gameday/<name>/
      state.json        what runs where (pids, ports, paused, workers)
      pg/               the stack's own cluster (a copy of the cached template) and secrets
      pg/pgbouncer/     PgBouncer's config, when the pooler is on
      logs/<service>.log
      proxy.json        the link the fault proxy creates at start (Toxiproxy populate format)
      web/              Arcade's feature switches and prometheus-client multiprocess files
      watchdog.pid      the fault watchdog (lab.faults.watchdog): reverts faults whose lease ran out

    up:    check name, binaries, ports -> db -> [pooler] -> [proxy] -> web -> [loadgen] -> all healthy -> watchdog
    down:  watchdog, then the reverse of up; nothing left running, idempotent

    Arcade ──TCP──▶ proxy `postgres` (when enabled) ──TCP──▶ [PgBouncer] ──TCP──▶ PostgreSQL
                                                   admin SQL ──unix socket──▶ PostgreSQL

Every start is undone on every failure path: a failed `up` stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lab.errors import StackError, StackExistsError, UsageError
from lab.stack import health, pg_template, pooler, ports, postgres, procs
from lab.stack.base import SERVICES, SUPERUSER, Capabilities, PgTarget, Progress, Service, StackStatus, no_progress
from lab.stack.common import StackBase
from lab.stack.config import StackConfig
from lab.stack.files import write_atomic
from lab.stack.local import specs, watchdog
from lab.stack.local.service import LocalService
from lab.stack.pgbin import find_pg_bin
from lab.stack.service_config import server_settings
from lab.stack.state import ServiceState, StackState

ALL_SERVICES = SERVICES  # start order; stop order is the reverse


class LocalStack(StackBase):
    """One embedded stack, addressed by name under a run root."""

    kind = "local"
    capabilities = Capabilities(containers=False, data_kept_on_down=True)

    # --- lifecycle -------------------------------------------------------------------------

    def preflight(self) -> None:
        find_pg_bin()
        if self.config.pooler.enabled:
            pooler.find_pgbouncer()

    def is_up(self) -> bool:
        state = self._recorded()
        return state is not None and state.mode == self.kind and any(procs.alive(s.pid) for s in state.services.values())

    def up(self, progress: Progress = no_progress) -> StackStatus:
        """Start every service and wait until all are healthy; undo everything on failure."""
        pgbin = find_pg_bin()
        with self._lock():
            existing = StackState.load(self.state_path)
            if existing is not None:
                running = {n: s.pid for n, s in existing.services.items() if procs.alive(s.pid)}
                if running:
                    raise StackExistsError(
                        f"stack '{self.name}' is already up (pids {', '.join(map(str, running.values()))}); "
                        f"`gameday down --name {self.name}` stops it, or choose another --name")
                self._state = existing
                self._stop_all()  # a stale state from a crash: make sure nothing of it lingers
            started = time.monotonic()
            pg_dir = postgres.cluster_home(self.run_dir)
            if not (pg_dir / "data" / "PG_VERSION").exists():
                template = pg_template.ensure_template(pgbin, progress)
                progress("copying the template cluster ...")
                pg_template.materialise(template, pg_dir)
            for attempt in range(3):  # a free port we chose may be taken by someone else before we bind it
                chosen = ports.allocate(self.config)
                self._state = self._new_state(chosen, str(postgres.socket_dir_for(pg_dir, chosen["db"])), time.time())
                self._save()
                try:
                    self._start_all(progress)
                    break
                except BaseException:
                    self._stop_all()
                    self.state_path.unlink(missing_ok=True)
                    if attempt == 2 or not ports.lost_race(self.config, chosen):
                        raise
                    progress("a port was taken while starting; choosing others ...")
            progress(f"stack '{self.name}' healthy in {time.monotonic() - started:.2f} s")
        return self.status()

    def _start_all(self, progress: Progress) -> None:
        """Start every service of the state; wait until each answers."""
        assert self._state is not None
        # The proxy, PgBouncer and the load generator need nobody to be up yet: start them
        # first, so their interpreters boot while PostgreSQL and Arcade start.
        services = tuple(self._state.services)
        for name in services:
            if name in ("pooler", "proxy", "loadgen"):
                self._launch(name)
        progress("starting PostgreSQL ...")
        self.start_service("db")
        self._launch("web")
        progress("waiting for every service to answer ...")
        for name in services:
            self._await(name)
        watchdog.start(self.run_dir, self.name, self.root, self.log_path("watchdog"))

    def down(self, purge: bool = False, keep_data: bool = False) -> bool:
        """Stop everything this stack started; True if anything was running. The database stays
        for the next `up` unless `purge` (keep_data changes nothing here). Idempotent."""
        if not self.run_dir.exists():
            return False
        with self._lock():
            watchdog.stop(self.run_dir)  # even when the state cannot be read
            try:
                self._state = StackState.load(self.state_path)
            except UsageError:
                if not purge:
                    raise
                self._state = None  # unreadable: `down --purge` clears it
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

    def loaded(self) -> StackState:
        """The state file as recorded (a stopped service keeps its last pid), kept as the one this
        object changes; a postmaster restarted by hand (pg_ctl restart) is followed to its new pid."""
        state = self._load()
        self._adopt_postmaster(state)
        return state

    def _fresh(self) -> StackState:
        """The state file as recorded, read for a look only."""
        state = self._read()
        self._adopt_postmaster(state)
        return state

    def state(self) -> StackState:
        """The state file, with a stopped service's pid None and its paused flag cleared."""
        live = self._fresh()
        for svc in live.services.values():
            if not procs.alive(svc.pid):
                svc.pid, svc.paused = None, False
        return live

    def _adopt_postmaster(self, state: StackState) -> None:
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

    # --- what the protocol asks of a kind ------------------------------------------------------

    def scale_web(self, workers: int) -> int:
        """Set the number of Arcade worker processes (gunicorn TTIN/TTOU); return the new count."""
        self.check_workers(workers)
        web = self.loaded().services["web"]
        if web.pid is None or not procs.alive(web.pid):
            raise StackError("web is stopped; `gameday service start web` first")
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

    def web_workers(self) -> list[int]:
        """Pids of Arcade's live worker processes."""
        pid = self._fresh().services["web"].pid
        members = procs.tree(pid) if pid is not None and procs.alive(pid) else []
        return [p.pid for p in members[1:]]

    def admin_target(self, dbname: str = "postgres") -> PgTarget:
        """The superuser over the cluster's private unix socket (a reserved slot)."""
        state = self._read()
        return PgTarget(host=state.sockdir, port=state.services["db"].port, user=SUPERUSER, dbname=dbname)

    def stats(self) -> dict[str, dict[str, float]]:
        """CPU (% of one core) and memory (MB) of every running service (its whole process tree)."""
        return procs.tree_stats({name: svc.pid for name, svc in self.state().services.items() if svc.pid})

    def follow_logs(self, service: str) -> Iterator[str]:
        """New lines of a service's log as they come."""
        self.logs(service, 0)  # checks the name
        return procs.follow(self.log_path(service))

    def shell_env(self) -> dict[str, str]:
        # the real path: as root the cluster may live where its account can reach it, linked from the run dir
        return {**super().shell_env(), "PGDATA": str((self.run_dir / "pg" / "data").resolve())}

    def log_path(self, service: str) -> Path:
        return self.run_dir / "logs" / f"{service}.log"

    def cluster(self) -> postgres.PgCluster:
        """The stack's PostgreSQL cluster, with the settings the stack's config gives it."""
        state = self._state or self._fresh()
        cfg = StackConfig.model_validate(state.config)
        return postgres.PgCluster(
            pgbin=find_pg_bin(), datadir=self.run_dir / "pg" / "data", sockdir=Path(state.sockdir),
            log_path=self.log_path("db"), port=state.services["db"].port,
            settings={**server_settings(cfg.db), "log_min_messages": "warning"})

    # --- hooks of the common base ----------------------------------------------------------------

    def _handle(self, name: str) -> Service:
        return LocalService(self, name)

    def _db_running(self) -> tuple[bool, bool]:
        db = self._fresh().services["db"]
        running = procs.alive(db.pid)
        return running, running and db.paused

    def _health(self, name: str, svc: ServiceState) -> str:
        if svc.pid is None:
            return "stopped"
        if svc.paused:
            return "paused"
        return health.HEALTHY if name == "db" else health.probe(self._spec(name, self._read()).ready)

    def _detail(self, name: str, svc: ServiceState) -> dict[str, Any]:
        return {"workers": len(self.web_workers())} if name == "web" else {}

    def _app_password(self) -> str:
        return postgres.Secrets.load(self.run_dir / "pg" / "secrets.json").app_password

    def _apply_settings(self, restart: tuple[str, ...]) -> None:
        for name in restart:
            self.stop_service(name)
            self.start_service(name)

    def _pooler_preflight(self) -> None:
        pooler.find_pgbouncer()

    def _start_pooler(self) -> None:
        self.start_service("pooler")
        if "proxy" in self._state.services:  # type: ignore[union-attr]
            self._write_proxy_config()  # a restarted proxy keeps PgBouncer as its upstream

    def _stop_pooler(self) -> None:
        self.stop_service("pooler")

    def _pooler_upstream(self) -> str:
        return f"127.0.0.1:{self._read().services['pooler'].port}"

    def _logs(self, service: str, lines: int) -> str:
        return procs.tail(self.log_path(service), lines)

    # --- starting and stopping processes ---------------------------------------------------------

    def mark_paused(self, name: str, paused: bool) -> None:
        self.loaded().services[name].paused = paused
        self._save()

    def start_service(self, name: str, timeout: float = 30.0) -> None:
        """Start one service and wait until it is ready."""
        self._launch(name)
        self._await(name, timeout)

    def stop_service(self, name: str, quick: bool = False) -> None:
        """Stop one service and everything it started (a paused one is resumed first); `quick`
        (the stack is going away): at once, without letting it finish what it is doing."""
        assert self._state is not None
        svc = self._state.services[name]
        if name == "db":
            self.cluster().stop(svc.pid)
        elif svc.pid:
            spec = self._spec(name)
            sig = spec.quick_stop_signal if quick and spec.quick_stop_signal is not None else spec.stop_signal
            procs.stop_tree(svc.pid, sig, grace=10)
        svc.pid, svc.paused = None, False
        self._save()

    def _spec(self, name: str, state: StackState | None = None) -> specs.ProcessSpec:
        """How to run a service, from `state` (default: the one this object is changing)."""
        state = state or self._state
        assert state is not None
        return specs.spec_for(name, state, self.run_dir, self._app_dsn_of(state), self.features_path(),
                              postgres.cluster_home(self.run_dir))

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
            prom = specs.metrics_dir(self.run_dir)  # metrics of a previous Arcade must not add up
            shutil.rmtree(prom, ignore_errors=True)
            prom.mkdir(parents=True)
            self._write_features(cfg.web.disabled_features)
        spec = self._spec(name)
        svc.pid = procs.spawn(spec.argv, self.log_path(name), env=spec.env, user=spec.user, cwd=spec.cwd)
        svc.paused = False
        self._save()

    def _await(self, name: str, timeout: float = 30.0) -> None:
        """Wait until a launched service answers its readiness check."""
        assert self._state is not None
        if name == "db":
            return
        svc = self._state.services[name]
        ready = self._spec(name).ready
        health.wait_ready(name, lambda: health.probe(ready, timeout=1.0), lambda: self.logs(name, 15), timeout,
                          gone=lambda: None if procs.alive(svc.pid) else f"see {self.log_path(name)}")

    def _stop_all(self) -> None:
        """Stop every service in reverse start order, whatever state each is in."""
        assert self._state is not None
        errors = []
        try:
            watchdog.stop(self.run_dir)  # first: it must not revert faults against services going away
        except Exception as exc:
            errors.append(f"watchdog: {exc}")
        for name in reversed(list(self._state.services)):
            try:
                self.stop_service(name, quick=True)
            except Exception as exc:  # keep stopping the rest; report at the end
                errors.append(f"{name}: {exc}")
        if errors:
            raise StackError("could not stop everything cleanly: " + "; ".join(errors))

    def _write_proxy_config(self) -> None:
        assert self._state is not None
        svc = self._state.services
        upstream = (svc["pooler"] if "pooler" in svc else svc["db"]).port
        write_atomic(self.run_dir / "proxy.json", json.dumps(specs.proxy_config(self._state, upstream)))

    def _write_pooler_config(self) -> None:
        assert self._state is not None
        cfg = StackConfig.model_validate(self._state.config)
        creds = postgres.Secrets.load(self.run_dir / "pg" / "secrets.json")
        pooler.write_config(specs.pooler_home(postgres.cluster_home(self.run_dir)), cfg,
                            listen_port=self._state.services["pooler"].port, db_port=self._state.services["db"].port,
                            secret=creds.app_scram or creds.app_password)
