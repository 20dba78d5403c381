"""PgBouncer in the embedded stack: its binary, its config files, and reading its pools.

    Arcade ──▶ proxy `postgres` ──▶ PgBouncer (pooler) ──▶ PostgreSQL
                                    many clients, at most pool_size server connections

The config is rendered by a pure function; the stack writes it into the cluster's home (the
server account must read it: PgBouncer, like PostgreSQL, refuses to run as root).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab.errors import StackError
from lab.stack.config import PoolerConfig

STOP_HINT = "install it with `apt-get install pgbouncer` (scripts/bootstrap.sh does this)"


def find_pgbouncer() -> str:
    """The PgBouncer binary: LAB_PGBOUNCER, else on PATH, else Debian's /usr/sbin/pgbouncer."""
    explicit = os.environ.get("LAB_PGBOUNCER")
    for candidate in (explicit, shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise StackError(f"PgBouncer is not installed; {STOP_HINT}")


def render_ini(
    cfg: PoolerConfig,
    *,
    listen_port: int,
    db_port: int,
    dbname: str,
    user: str,
    auth_file: Path,
    statement_timeout_ms: int,
    query_wait_timeout_s: int,
) -> str:
    """pgbouncer.ini for one stack. Arcade's `options=-c statement_timeout=...` startup parameter
    is not something PgBouncer forwards, so the timeout is set on each server connection instead."""
    connect_query = f"SET statement_timeout = {int(statement_timeout_ms)}"
    return "\n".join([
        "[databases]",
        f"{dbname} = host=127.0.0.1 port={db_port} dbname={dbname} connect_query='{connect_query}'",
        "",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {listen_port}",
        "unix_socket_dir =",
        "auth_type = scram-sha-256",
        f"auth_file = {auth_file}",
        f"stats_users = {user}",
        f"pool_mode = {cfg.pool_mode}",
        f"default_pool_size = {cfg.pool_size}",
        f"max_client_conn = {cfg.max_client_conn}",
        "ignore_startup_parameters = options,extra_float_digits",
        f"query_wait_timeout = {max(1, int(query_wait_timeout_s))}",
        "server_connect_timeout = 3",
        "server_login_retry = 1",
        "log_connections = 0",
        "log_disconnections = 0",
        "",
    ])


def render_userlist(user: str, password: str) -> str:
    """PgBouncer's auth file: the user and password it checks clients against and logs in with."""
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return f"{quoted(user)} {quoted(password)}\n"
