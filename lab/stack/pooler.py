"""PgBouncer in the embedded stack: its binary, its config files, and reading its pools.

    Arcade ──▶ proxy `postgres` ──▶ PgBouncer (pooler) ──▶ PostgreSQL
                                    many clients, at most pool_size server connections

The config is rendered by pure functions; `write_config` puts it beside the cluster (the server
account must read it: PgBouncer, like PostgreSQL, refuses to run as root). The compose stack's
PgBouncer image renders the same settings from its environment (docker/pgbouncer/entrypoint.sh).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lab.errors import StackError
from lab.stack import procs
from lab.stack.base import APP_DB, APP_ROLE
from lab.stack.config import PoolerConfig, StackConfig
from lab.stack.files import write_atomic

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
    """PgBouncer's auth file: the user and what it checks clients against, the role's SCRAM secret
    (lab.stack.scram) or, for a cluster made before the secret was kept, its password."""
    def quoted(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    return f"{quoted(user)} {quoted(password)}\n"


def write_config(home: Path, cfg: StackConfig, listen_port: int, db_port: int, secret: str) -> Path:
    """pgbouncer.ini and its auth file under `home`, readable by the server account only; the ini's path."""
    home.mkdir(mode=0o700, exist_ok=True)
    account = procs.service_user()
    owner = (account.pw_uid, account.pw_gid) if account is not None else None
    if owner is not None:
        os.chown(home, *owner)
    home.chmod(0o700)
    auth = home / "userlist.txt"
    write_atomic(auth, render_userlist(APP_ROLE, secret), mode=0o600, owner=owner)
    ini = home / "pgbouncer.ini"
    write_atomic(ini, render_ini(cfg.pooler, listen_port=listen_port, db_port=db_port, dbname=APP_DB, user=APP_ROLE,
                                 auth_file=auth, statement_timeout_ms=cfg.web.statement_timeout_ms,
                                 query_wait_timeout_s=int(cfg.web.request_timeout_s)), mode=0o600, owner=owner)
    return ini
