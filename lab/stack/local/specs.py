"""How each process of the embedded stack is run (pure but for the environment it inherits):
its command line, environment, readiness check, stop signal and account.

    db       postgres -D <run dir>/pg/data ...            (lab/stack/postgres.py; started there)
    pooler   pgbouncer <run dir>/pg/pgbouncer/pgbouncer.ini      tcp://127.0.0.1:<pooler.port>
    proxy    python -m lab.cli proxy --config proxy.json          http://.../proxies/postgres
    web      python -m gunicorn ... arcade:create_app()           http://.../readyz
    loadgen  python -m loadgen --target <web> --control ...       http://.../healthz
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.errors import UsageError
from lab.stack import pooler, procs
from lab.stack.base import PROXY_NAME
from lab.stack.config import StackConfig
from lab.stack.service_config import arcade_env
from lab.stack.state import StackState


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one process service and how to tell that it is ready."""

    argv: list[str]
    env: dict[str, str]
    ready: str  # http://... answers 200, or tcp://host:port accepts a connection
    stop_signal: int = signal.SIGTERM
    quick_stop_signal: int | None = None  # ends it at once, in-flight work dropped (for `down`); None: stop_signal
    user: str | None = None
    cwd: Path | None = None


def metrics_dir(run_dir: Path) -> Path:
    """Arcade's prometheus-client multiprocess files."""
    return run_dir / "web" / "prom"


def pooler_home(cluster_home: Path) -> Path:
    """PgBouncer's config lives beside the cluster (the server account must read it)."""
    return cluster_home / "pgbouncer"


def proxy_config(state: StackState, upstream_port: int) -> list[dict[str, Any]]:
    """proxy.json: the one link, from Arcade's side to what sits behind it (Toxiproxy's populate format)."""
    listen = state.services["proxy"].extra["listen_port"]
    return [{"name": PROXY_NAME, "listen": f"127.0.0.1:{listen}", "upstream": f"127.0.0.1:{upstream_port}",
             "enabled": True}]


def spec_for(name: str, state: StackState, run_dir: Path, app_dsn: str, features_file: Path,
             cluster_home: Path) -> ProcessSpec:
    """The command line, environment and readiness check of a process service (not db)."""
    cfg = StackConfig.model_validate(state.config)
    svc = state.services[name]
    inherited = dict(os.environ)
    if name == "proxy":
        return ProcessSpec(
            argv=[sys.executable, "-m", "lab.cli", "proxy", "--host", "127.0.0.1", "--port", str(svc.port),
                  "--config", str(run_dir / "proxy.json"), "--proxy-metrics"],
            env=inherited, ready=f"http://127.0.0.1:{svc.port}/proxies/{PROXY_NAME}", cwd=run_dir)
    if name == "pooler":
        account = procs.service_user()
        home = pooler_home(cluster_home)
        return ProcessSpec(argv=[pooler.find_pgbouncer(), str(home / "pgbouncer.ini")], env=inherited,
                           ready=f"tcp://127.0.0.1:{svc.port}", user=account.pw_name if account else None, cwd=home)
    if name == "web":
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:arcade.gunicorn_conf",
                "--bind", f"127.0.0.1:{svc.port}", "--workers", str(svc.workers or cfg.web.workers),
                "--name", f"arcade-{state.name}", "arcade:create_app()"]
        env = {**inherited, **arcade_env(cfg.web, app_dsn, str(features_file), str(metrics_dir(run_dir)))}
        # SIGTERM drains (a worker finishes its requests: about a second even when idle); SIGINT is
        # gunicorn's quick shutdown, for a stack going away.
        return ProcessSpec(argv=argv, env=env, ready=f"http://127.0.0.1:{svc.port}/readyz", cwd=run_dir,
                           quick_stop_signal=signal.SIGINT)
    if name == "loadgen":
        web = state.services["web"].port
        return ProcessSpec(
            argv=[sys.executable, "-m", "loadgen", "--target", f"http://127.0.0.1:{web}",
                  "--control", f"127.0.0.1:{svc.port}", "--rate", str(cfg.loadgen.rate)],
            env=inherited, ready=f"http://127.0.0.1:{svc.port}/healthz", cwd=run_dir)
    raise UsageError(f"unknown service '{name}'")
