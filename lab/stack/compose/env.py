"""What docker-compose.yml is told for one stack (pure): its variables, Toxiproxy's proxies,
and the names that tie the lab's services to Compose's.

    lab service   db   pooler      proxy       web   loadgen
    Compose       db   pgbouncer   toxiproxy   web   loadgen      (+ seed: schema and data, once)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lab.stack import images as image_choice
from lab.stack.config import StackConfig

ALL_SERVICES = ("db", "pooler", "proxy", "web", "loadgen")  # the lab's names, start order
COMPOSE_NAME = {"db": "db", "pooler": "pgbouncer", "proxy": "toxiproxy", "web": "web", "loadgen": "loadgen"}
LAB_NAME = {v: k for k, v in COMPOSE_NAME.items()}
PROXY_NAME = "postgres"  # the Toxiproxy proxy between Arcade and PostgreSQL
EDGE_NAME = "arcade"  # the Toxiproxy proxy in front of the web containers
SUPERUSER = "gameday"
APP_ROLE = APP_DB = "arcade"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
RUN_DIR_LABEL = "io.gameday-lab.run-dir"
PORT_KEYS = {  # slot -> (config key, compose variable)
    "db": ("db.port", "LAB_DB_PORT"),
    "proxy": ("proxy.api_port", "LAB_PROXY_API_PORT"),
    "proxy.listen": ("proxy.listen_port", "LAB_PROXY_LISTEN_PORT"),
    "web": ("web.port", "LAB_WEB_PORT"),
    "loadgen": ("loadgen.control_port", "LAB_LOADGEN_PORT"),
    "pooler": ("pooler.port", "LAB_PGBOUNCER_PORT"),
}


def compose_file() -> Path:
    explicit = os.environ.get("LAB_COMPOSE_FILE")
    return Path(explicit) if explicit else image_choice.repo_root() / "docker-compose.yml"


def project_name(name: str) -> str:
    return f"gameday-{name}"


def enabled_services(config: StackConfig) -> tuple[str, ...]:
    """The lab's services a compose stack runs (Toxiproxy is always there: it is also the edge)."""
    pooler = getattr(config, "pooler", None)
    on = {"db": True, "pooler": bool(pooler and pooler.enabled), "proxy": True, "web": True,
          "loadgen": config.loadgen.enabled}
    return tuple(name for name in ALL_SERVICES if on[name])


def compose_env(name: str, run_dir: Path, config: StackConfig, ports: dict[str, int], creds: dict[str, str],
                images: dict[str, str]) -> dict[str, str]:
    """Every variable docker-compose.yml reads, for one stack (pure)."""
    web, db = config.web, config.db
    pooler = getattr(config, "pooler", None)
    pooled = bool(pooler and pooler.enabled)
    if config.proxy.enabled:
        arcade_db = ("toxiproxy", 5432)
    elif pooled:
        arcade_db = ("pgbouncer", 6432)
    else:
        arcade_db = ("db", 5432)
    env = {
        "LAB_STACK": name,
        "LAB_RUN_DIR": str(run_dir),
        **images,
        "LAB_DB_MAX_CONNECTIONS": str(db.max_connections),
        "LAB_DB_SUPERUSER_RESERVED": str(db.superuser_reserved_connections),
        "LAB_DB_SHARED_BUFFERS_MB": str(db.shared_buffers_mb),
        "LAB_DB_LOG_STATEMENT": "all" if db.statement_log else "none",
        "LAB_DB_SUPERUSER_PASSWORD": creds["superuser_password"],
        "LAB_ARCADE_DB_PASSWORD": creds["app_password"],
        "LAB_WEB_THREADS": str(web.threads),
        "LAB_WEB_TIMEOUT_S": str(max(30, int(web.request_timeout_s * 3))),
        "LAB_WEB_ACCESS_MODE": web.access_mode,
        "LAB_WEB_POOL_SIZE": str(web.pool_size),
        "LAB_WEB_POOL_TIMEOUT_S": str(web.pool_timeout_s),
        "LAB_WEB_CONNECT_TIMEOUT_S": str(web.connect_timeout_s),
        "LAB_WEB_STATEMENT_TIMEOUT_MS": str(web.statement_timeout_ms),
        "LAB_WEB_REQUEST_TIMEOUT_S": str(web.request_timeout_s),
        "LAB_WEB_FLAGS": ",".join(web.flags),
        "LAB_ARCADE_DB_HOST": arcade_db[0],
        "LAB_ARCADE_DB_PORT": str(arcade_db[1]),
        "LAB_TOXIPROXY_CONFIG": str(run_dir / "toxiproxy.json"),
        "LAB_FEATURES_DIR": str(run_dir / "web"),
        "LAB_LOADGEN_RATE": str(config.loadgen.rate),
        "LAB_POOLER_QUERY_WAIT_S": str(max(1, int(web.request_timeout_s))),
    }
    if pooler is not None:
        env.update(LAB_POOLER_MODE=pooler.pool_mode, LAB_POOLER_SIZE=str(pooler.pool_size),
                   LAB_POOLER_MAX_CLIENT_CONN=str(pooler.max_client_conn))
    for slot, (_key, var) in PORT_KEYS.items():
        if slot in ports:
            env[var] = str(ports[slot])
    return env


def toxiproxy_config(pooled: bool) -> list[dict[str, Any]]:
    """The proxies Toxiproxy creates at start (the format of its -config file and /populate)."""
    upstream = "pgbouncer:6432" if pooled else "db:5432"
    return [
        {"name": PROXY_NAME, "listen": "0.0.0.0:5432", "upstream": upstream, "enabled": True},
        {"name": EDGE_NAME, "listen": "0.0.0.0:8000", "upstream": "web:8000", "enabled": True},
    ]
