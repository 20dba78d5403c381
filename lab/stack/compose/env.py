"""What docker-compose.yml is told for one stack (pure): its variables, Arcade's env file,
the fault proxy's links, and the names that tie the lab's services to Compose's.

    lab service   db   pooler      proxy       web   loadgen
    Compose       db   pgbouncer   toxiproxy   web   loadgen      (+ seed: schema and data, once)

    compose_env()   LAB_* variables: ports, images, passwords, the db's settings (LAB_DB_<SETTING>)
    arcade_env()    ARCADE_* for <run dir>/arcade.env, the web service's env_file (the same builder
                    as the embedded stack's; the password comes from PGPASSWORD)
    proxy_links()   the links the proxy creates at start (<run dir>/toxiproxy.json)
    watchdog_env()  what the in-stack fault watchdog shares with the host: the run root and the
                    source tree at their own paths, the engine's socket, the user's ids (these are
                    read from the process and the socket, the one part that is not pure)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lab.stack import images as image_choice
from lab.stack.base import EDGE_NAME, PROXY_NAME, SERVICES
from lab.stack.config import StackConfig
from lab.stack.ports import SLOTS
from lab.stack.service_config import arcade_env as arcade_settings
from lab.stack.service_config import dsn, server_settings

COMPOSE_NAME = {"db": "db", "pooler": "pgbouncer", "proxy": "toxiproxy", "web": "web", "loadgen": "loadgen"}
LAB_NAME = {v: k for k, v in COMPOSE_NAME.items()}
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
RUN_DIR_LABEL = "io.gameday-lab.run-dir"
FEATURES_FILE = "/var/lib/arcade/features/features.json"  # the web containers' view of <run dir>/web
METRICS_DIR = "/var/lib/arcade/prom"


def compose_file() -> Path:
    explicit = os.environ.get("LAB_COMPOSE_FILE")
    return Path(explicit) if explicit else image_choice.repo_root() / "docker-compose.yml"


def project_name(name: str) -> str:
    return f"gameday-{name}"


def enabled_services(config: StackConfig) -> tuple[str, ...]:
    """The lab's services a compose stack runs (the proxy is always there: it is also the edge)."""
    on = {"db": True, "pooler": config.pooler.enabled, "proxy": True, "web": True, "loadgen": config.loadgen.enabled}
    return tuple(name for name in SERVICES if on[name])


def db_setting_variable(setting: str) -> str:
    """The compose variable of a PostgreSQL setting: max_connections -> LAB_DB_MAX_CONNECTIONS."""
    return f"LAB_DB_{setting.upper()}"


def arcade_db(config: StackConfig) -> tuple[str, int]:
    """Where Arcade's connections go inside the project: the proxy, else PgBouncer, else the db."""
    if config.proxy.enabled:
        return "toxiproxy", 5432
    if config.pooler.enabled:
        return "pgbouncer", 6432
    return "db", 5432


def arcade_env(config: StackConfig) -> dict[str, str]:
    """Arcade's environment in the web containers (written to <run dir>/arcade.env)."""
    host, port = arcade_db(config)
    return arcade_settings(config.web, dsn(host, port), FEATURES_FILE, METRICS_DIR)


def compose_env(name: str, run_dir: Path, config: StackConfig, ports: dict[str, int], creds: dict[str, str],
                images: dict[str, str]) -> dict[str, str]:
    """Every variable docker-compose.yml reads, for one stack."""
    pooler = config.pooler
    env = {
        "LAB_STACK": name,
        "LAB_RUN_DIR": str(run_dir),
        **images,
        **{db_setting_variable(k): v for k, v in server_settings(config.db).items()},
        "LAB_DB_SUPERUSER_PASSWORD": creds["superuser_password"],
        "LAB_ARCADE_DB_PASSWORD": creds["app_password"],
        # the role's SCRAM secret, given to PostgreSQL's first start and to PgBouncer ("": a
        # volume made before it was kept, whose role has only its password)
        "LAB_ARCADE_DB_SCRAM": creds.get("app_scram", ""),
        "LAB_ARCADE_ENV": str(run_dir / "arcade.env"),
        "LAB_TOXIPROXY_CONFIG": str(run_dir / "toxiproxy.json"),
        "LAB_FEATURES_DIR": str(run_dir / "web"),
        "LAB_LOADGEN_RATE": str(config.loadgen.rate),
        "LAB_POOLER_MODE": pooler.pool_mode,
        "LAB_POOLER_SIZE": str(pooler.pool_size),
        "LAB_POOLER_MAX_CLIENT_CONN": str(pooler.max_client_conn),
        "LAB_POOLER_STATEMENT_TIMEOUT_MS": str(config.web.statement_timeout_ms),
        "LAB_POOLER_QUERY_WAIT_S": str(max(1, int(config.web.request_timeout_s))),
        **watchdog_env(run_dir),
    }
    for slot in SLOTS:
        if slot.name in ports:
            env[slot.variable] = str(ports[slot.name])
    return env


def docker_socket() -> Path:
    """The engine's unix socket on this host (DOCKER_HOST when it names one)."""
    host = os.environ.get("DOCKER_HOST", "")
    return Path(host[len("unix://"):]) if host.startswith("unix://") else Path("/var/run/docker.sock")


def watchdog_env(run_dir: Path) -> dict[str, str]:
    """The variables of the `watchdog` service: it runs the lab's own watchdog in the stack, on the
    host's network and process table, as the user who brought the stack up, with the run root (the
    fault journal, the runs' timelines), the source tree (docker-compose.yml, for the reverts that
    recreate a service) and the engine's socket at the paths the host sees them."""
    socket = docker_socket()
    try:
        socket_gid = socket.stat().st_gid
    except OSError:
        socket_gid = 0
    return {
        "LAB_ROOT": str(run_dir.parent),
        "LAB_SOURCE": str(compose_file().parent),
        "LAB_COMPOSE_FILE_PATH": str(compose_file()),
        "LAB_DOCKER_SOCKET": str(socket),
        "LAB_UID": str(os.getuid()),
        "LAB_GID": str(os.getgid()),
        "LAB_DOCKER_GID": str(socket_gid),
    }


def proxy_links(pooled: bool) -> list[dict[str, Any]]:
    """The links the proxy creates at start (the format of Toxiproxy's -config file and /populate)."""
    upstream = "pgbouncer:6432" if pooled else "db:5432"
    return [
        {"name": PROXY_NAME, "listen": "0.0.0.0:5432", "upstream": upstream, "enabled": True},
        {"name": EDGE_NAME, "listen": "0.0.0.0:8000", "upstream": "web:8000", "enabled": True},
    ]


def env_file_text(values: dict[str, str]) -> str:
    """KEY=VALUE lines, sorted (an env file both Compose versions read)."""
    return "".join(f"{k}={v}\n" for k, v in sorted(values.items()))
