"""restart: restart one service of the stack (db, web, proxy, loadgen). A database restart says how
many client sessions it dropped (the score card counts them as part of what the fix cost)."""

from __future__ import annotations

import time
from typing import Any, Literal

from lab.actions.base import Action, ActionContext, Args, ByArg


class RestartArgs(Args):
    service: Literal["db", "web", "proxy", "loadgen"]


def run(ctx: ActionContext, args: RestartArgs) -> dict[str, Any]:
    dropped = _sessions(ctx) if args.service == "db" else None
    started = time.monotonic()
    ctx.stack.service(args.service).restart()
    out: dict[str, Any] = {"service": args.service, "seconds": round(time.monotonic() - started, 3)}
    if dropped is not None:
        out["sessions_dropped"] = dropped
    return out


def _sessions(ctx: ActionContext) -> int | None:
    """Client sessions the database holds now (None when it cannot tell: it is down or full)."""
    try:
        (count,), = ctx.stack.sql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                                  "AND pid <> pg_backend_pid()")
        return int(count)
    except Exception:  # a database that does not answer still gets restarted
        return None


ACTION = Action("restart", "restart a service (db, web, proxy, loadgen)", RestartArgs, run, "change",
                observed_as=ByArg("service", {"db": ("db.restarted", "db.connections_terminated"),
                                              "web": ("web.restarted", "web.scaled")}),
                example={"service": "db"})
