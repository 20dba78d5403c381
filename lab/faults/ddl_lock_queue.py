"""ddl_lock_queue: a migration's DDL waits behind a long lock holder, and the table's traffic queues behind it.

    holder (report transaction | maintenance run) ── granted, does not block readers
       └─ DDL (ALTER TABLE ... ADD CONSTRAINT | DROP TRIGGER) ── waits for ACCESS EXCLUSIVE
             └─ every later query on the table ── waits behind the DDL (the lock queue)

The harm lasts while the DDL waits. Cancelling or terminating the DDL, ending the holder (the DDL
then completes in milliseconds) or restarting the database removes it. Revert stops both sessions
and undoes whatever the DDL or the injection changed in the schema.
"""

from __future__ import annotations

import signal
from typing import Any, Literal

from pydantic import Field

from lab.faults.base import Fault, FaultContext, Params, Symptom
from lab.faults.helper import Helper
from lab.stack import procs

TABLES = Literal["players", "scores", "best_scores", "matches", "purchases", "items", "games"]


class DdlQueueParams(Params):
    table: TABLES = "best_scores"
    ddl: Literal["add_constraint", "drop_trigger"] = Field(
        "add_constraint", description="what the migration runs: a CHECK constraint added, or a trigger dropped")
    blocker: Literal["long_transaction", "maintenance"] = Field(
        "long_transaction",
        description="long_transaction: a report left open after reading the table; maintenance: a long vacuum-like "
                    "run holding SHARE UPDATE EXCLUSIVE that comes back when cancelled")
    delay_s: float = Field(1.0, ge=0, le=600, description="the DDL arrives this long after the holder")


def _name(ctx: FaultContext) -> str:
    """A schema object name for this fault (ids may hold '-')."""
    return "gameday_" + "".join(c if c.isalnum() else "_" for c in ctx.fault_id)


def worker(ctx: FaultContext) -> Helper:
    """The lab.faults.ddl_worker process of this fault (its state: both sessions, the DDL's outcome)."""
    return Helper(ctx, "ddl")


def ddl_sql(ctx: FaultContext, p: DdlQueueParams) -> str:
    name = _name(ctx)
    if p.ddl == "drop_trigger":
        return f"DROP TRIGGER {name} ON {p.table}"
    column = {"players": "coins", "scores": "score", "best_scores": "best_score", "matches": "id",
              "purchases": "id", "items": "price", "games": "id"}[p.table]
    return f"ALTER TABLE {p.table} ADD CONSTRAINT {name} CHECK ({column} >= 0) NOT VALID"


def inject(ctx: FaultContext, p: DdlQueueParams) -> dict[str, Any]:
    name = _name(ctx)
    if p.ddl == "drop_trigger":  # the trigger the migration is about to drop
        ctx.stack.sql(f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN RETURN NEW; END$$")
        ctx.stack.sql(f"DROP TRIGGER IF EXISTS {name} ON {p.table}")
        ctx.stack.sql(f"CREATE TRIGGER {name} BEFORE UPDATE ON {p.table} FOR EACH ROW EXECUTE FUNCTION {name}()")
    return worker(ctx).start(
        "lab.faults.ddl_worker",
        "--dsn", ctx.stack.app_dsn(via_proxy=False, application_name="arcade-migrate"),
        "--blocker-dsn", ctx.stack.app_dsn(via_proxy=False, application_name=(
            "vacuum-freeze" if p.blocker == "maintenance" else "arcade-report")),
        "--table", p.table, "--ddl", ddl_sql(ctx, p), "--blocker", p.blocker, "--delay-s", str(p.delay_s),
        ready=lambda state: state.get("ddl") in ("waiting", "done", "failed"), timeout=10.0 + p.delay_s)


def revert(ctx: FaultContext, p: DdlQueueParams, data: dict[str, Any]) -> None:
    worker(ctx).stop(data, signal.SIGKILL)
    if not ctx.stack.is_up():
        return
    state = worker(ctx).state()
    backends = [int(b) for b in (state.get("ddl_pid"), state.get("blocker_pid")) if b]
    if backends:
        ctx.stack.sql("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (backends,))
    # the server may take a moment to end them: wait before touching the schema
    procs.wait_until(lambda: not ctx.stack.sql("SELECT 1 FROM pg_stat_activity WHERE pid = ANY(%s::int[])",
                                               (backends,)), 5.0, 0.05)
    name = _name(ctx)
    ctx.stack.sql(f"ALTER TABLE {p.table} DROP CONSTRAINT IF EXISTS {name}")
    ctx.stack.sql(f"DROP TRIGGER IF EXISTS {name} ON {p.table}")
    ctx.stack.sql(f"DROP FUNCTION IF EXISTS {name}()")


def cause_present(ctx: FaultContext, p: DdlQueueParams, data: dict[str, Any]) -> bool:
    """The DDL still waits in the lock queue."""
    ddl_pid = worker(ctx).state().get("ddl_pid")
    if not ddl_pid:
        return False
    rows = ctx.stack.sql("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (int(ddl_pid),))
    return bool(rows)


FAULT = Fault(
    name="ddl_lock_queue",
    summary="a migration's DDL waits for a lock behind a long holder; the table's queries queue behind it",
    params=DdlQueueParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("every request that touches the table waits in the lock queue until it times out",
                    availability_below=0.9),
    observed_as=("db.connections_terminated",),
    example={"table": "best_scores"},
)
