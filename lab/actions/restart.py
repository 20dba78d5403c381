"""restart: restart one service of the stack (db, web, proxy, loadgen)."""

from __future__ import annotations

import time
from typing import Any, Literal

from lab.actions.base import Action, ActionContext, Args, ByArg


class RestartArgs(Args):
    service: Literal["db", "web", "proxy", "loadgen"]


def run(ctx: ActionContext, args: RestartArgs) -> dict[str, Any]:
    started = time.monotonic()
    ctx.stack.service(args.service).restart()
    return {"service": args.service, "seconds": round(time.monotonic() - started, 3)}


ACTION = Action("restart", "restart a service (db, web, proxy, loadgen)", RestartArgs, run, "change",
                observed_as=ByArg("service", {"db": ("db.restarted", "db.connections_terminated"),
                                              "web": ("web.restarted", "web.scaled")}),
                example={"service": "db"})
