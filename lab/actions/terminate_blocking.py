"""terminate-blocking: end the sessions other sessions wait on (the head of a lock queue).

    holder ◀── DDL (waits for ACCESS EXCLUSIVE) ◀── every later query on the table

The targets: every session pg_blocking_pids() names, and every session waiting for an ACCESS
EXCLUSIVE lock (a queued DDL holds up whoever comes next, even in a quiet second). `waiting_only`
ends only the sessions that wait on a lock themselves (the DDL) and leaves a holder that must
finish (a vacuum) running.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args

TARGETS = (
    "WITH targets AS ("
    " SELECT DISTINCT unnest(pg_blocking_pids(pid)) AS pid FROM pg_stat_activity"
    " UNION SELECT pid FROM pg_locks WHERE NOT granted AND mode = 'AccessExclusiveLock') "
    "SELECT a.pid, coalesce(a.application_name, ''), coalesce(a.state, '-'), coalesce(a.wait_event_type, ''), "
    "left(a.query, 80) FROM pg_stat_activity a JOIN targets t ON t.pid = a.pid "
    "WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' ORDER BY a.pid"
)


class BlockingArgs(Args):
    waiting_only: bool = Field(False, description="only those that wait on a lock themselves (a queued DDL)")


def run(ctx: ActionContext, args: BlockingArgs) -> dict[str, Any]:
    found = [row for row in ctx.stack.sql(TARGETS) if not args.waiting_only or row[3] == "Lock"]
    ended = []
    for pid, app, state, wait, query in found:
        (ok,), = ctx.stack.sql("SELECT coalesce(pg_terminate_backend(%s), false)", (pid,))
        ended.append({"pid": pid, "application": app, "state": state, "waiting_on": wait, "query": query,
                      "terminated": bool(ok)})
    return {"terminated": sum(1 for e in ended if e["terminated"]), "sessions": ended}


ACTION = Action("terminate-blocking", "terminate the sessions others wait on (the head of a lock queue)",
                BlockingArgs, run, "change", example={"waiting_only": True})
