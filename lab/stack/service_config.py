"""What Arcade and PostgreSQL are told, built once from the stack's config (pure), for every kind.

    config.web ──arcade_env()──────▶ ARCADE_* and GUNICORN_CMD_ARGS
                                       local:   the environment of Arcade's process
                                       compose: <run dir>/arcade.env, the web service's env_file
    config.db  ──server_settings()─▶ max_connections, superuser_reserved_connections, ...
                                       local:   `postgres -c NAME=VALUE`
                                       compose: the LAB_DB_* variables of the db service's command

Arcade reads ARCADE_* (services/web/arcade/config.py); gunicorn reads GUNICORN_CMD_ARGS, so the
bind address, worker count and name are the only things left on a kind's command line.
"""

from __future__ import annotations

from lab.stack.base import APP_DB, APP_ROLE
from lab.stack.config import DbConfig, WebConfig


def request_timeout_s(web: WebConfig) -> int:
    """Gunicorn's worker timeout: three request deadlines, at least 30 s."""
    return max(30, int(web.request_timeout_s * 3))


def arcade_env(web: WebConfig, dsn: str, features_file: str, metrics_dir: str) -> dict[str, str]:
    """Arcade's environment: its DSN (a password may come from PGPASSWORD instead), settings,
    feature switches file and multiprocess metrics folder."""
    return {
        "ARCADE_DSN": dsn,
        "ARCADE_ACCESS_MODE": web.access_mode,
        "ARCADE_POOL_SIZE": str(web.pool_size),
        "ARCADE_POOL_TIMEOUT_S": str(web.pool_timeout_s),
        "ARCADE_CONNECT_TIMEOUT_S": str(web.connect_timeout_s),
        "ARCADE_STATEMENT_TIMEOUT_MS": str(web.statement_timeout_ms),
        "ARCADE_REQUEST_TIMEOUT_S": str(web.request_timeout_s),
        "ARCADE_FLAGS": ",".join(web.flags),
        "ARCADE_FEATURES_FILE": features_file,
        "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        "GUNICORN_CMD_ARGS": f"--threads {web.threads} --timeout {request_timeout_s(web)}",
    }


def server_settings(db: DbConfig) -> dict[str, str]:
    """The PostgreSQL settings a stack's config decides (every kind starts its server with them)."""
    return {
        "max_connections": str(db.max_connections),
        "superuser_reserved_connections": str(db.superuser_reserved_connections),
        "shared_buffers": f"{db.shared_buffers_mb}MB",
        "log_statement": "all" if db.statement_log else "none",
        "log_line_prefix": "%m [%p] %q%u@%d ",
    }


def dsn(host: str, port: int, password: str | None = None, application_name: str = "arcade") -> str:
    """A libpq DSN of Arcade's role (the password may be left to PGPASSWORD)."""
    secret = f" password={password}" if password else ""
    return f"host={host} port={port} dbname={APP_DB} user={APP_ROLE}{secret} application_name={application_name}"
