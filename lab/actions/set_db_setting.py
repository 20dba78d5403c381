"""set-db-setting NAME VALUE: change a PostgreSQL setting on the running stack.

    settings the stack's config owns (max_connections, superuser_reserved_connections,
    shared_buffers)  -> recorded in the stack's config; they apply when the DB restarts
    any other setting -> ALTER SYSTEM SET + pg_reload_conf(); applied at once, or pending a
                         restart when PostgreSQL says so (context `postmaster`)

The name is checked against pg_settings and the value by PostgreSQL itself; both are passed as
an identifier and a literal, never spliced into SQL text. The observers see ALTER SYSTEM's line in
postgresql.auto.conf as `db.setting_changed`: this action explains it (`observed_as`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import psycopg2
from psycopg2 import sql
from pydantic import Field

from lab.actions.base import Action, ActionContext, Args
from lab.errors import UsageError

# PostgreSQL setting -> (stack config key, converter of the typed value)
OWNED: dict[str, tuple[str, Callable[[str], int]]] = {
    "max_connections": ("db.max_connections", int),
    "superuser_reserved_connections": ("db.superuser_reserved_connections", int),
    "shared_buffers": ("db.shared_buffers_mb", lambda v: _megabytes(v)),
}
# Set on the server's command line by the stack; ALTER SYSTEM could not override them.
COMMAND_LINE = {"log_min_messages", "log_line_prefix", "log_statement", "port", "unix_socket_directories",
                "listen_addresses"}


def _megabytes(value: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*(kB|MB|GB)?\s*", value, re.IGNORECASE)
    if not match:
        raise ValueError(f"expected a size such as 64MB, got {value!r}")
    number, unit = int(match.group(1)), (match.group(2) or "MB").upper()
    return max(1, {"KB": number // 1024, "MB": number, "GB": number * 1024}[unit])


class SettingArgs(Args):
    name: str = Field(pattern=r"^[a-z_][a-z0-9_.]*$", max_length=63, description="a name from pg_settings")
    value: str = Field(min_length=1, max_length=1000)


def run(ctx: ActionContext, args: SettingArgs) -> dict[str, Any]:
    rows = ctx.stack.sql("SELECT setting, unit, context FROM pg_settings WHERE name = %s", (args.name,))
    if not rows:
        raise UsageError(f"set-db-setting: name: unknown PostgreSQL setting '{args.name}' (see pg_settings)")
    before, unit, context = rows[0]
    if context == "internal" or args.name in COMMAND_LINE:
        raise UsageError(f"set-db-setting: name: '{args.name}' cannot be changed on this stack")
    if args.name in OWNED:
        key, convert = OWNED[args.name]
        try:
            value = convert(args.value)
        except ValueError as exc:
            raise UsageError(f"set-db-setting: value: {exc}") from None
        ctx.stack.reconfigure([f"{key}={value}"], restart=())
        return {"name": args.name, "before": before, "requested": args.value, "applied": False,
                "pending_restart": True, "how": f"stack config {key}; applies when db restarts"}
    statement = sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(args.name), sql.Literal(args.value))
    try:
        ctx.stack.sql(statement)  # psycopg2 composes it
    except psycopg2.Error as exc:
        message = (exc.pgerror or str(exc)).strip().splitlines()[0].removeprefix("ERROR:").strip()
        raise UsageError(f"set-db-setting: value: {message}") from None
    ctx.stack.sql("SELECT pg_reload_conf()")
    after, pending = before, False
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:  # the reload is asynchronous; a new session sees it first
        (after, pending), = ctx.stack.sql("SELECT setting, pending_restart FROM pg_settings WHERE name = %s",
                                          (args.name,))
        if pending or after != before:
            break
        time.sleep(0.05)
    return {"name": args.name, "before": before, "after": after, "unit": unit, "requested": args.value,
            "applied": not pending, "pending_restart": bool(pending), "how": "ALTER SYSTEM"}


ACTION = Action("set-db-setting", "change a PostgreSQL setting (reloaded, or applied at the next DB restart)",
                SettingArgs, run, "change", observed_as=("db.setting_changed",),
                example={"name": "work_mem", "value": "8MB"})
