"""kill-query: terminate one backend by pid (a stuck query or a lock holder)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args


class KillArgs(Args):
    pid: int = Field(gt=0)


def run(ctx: ActionContext, args: KillArgs) -> dict[str, Any]:
    (ok,), = ctx.stack.sql("SELECT coalesce(pg_terminate_backend(%s), false)", (args.pid,))
    return {"pid": args.pid, "terminated": bool(ok)}


ACTION = Action("kill-query", "terminate one backend by pid", KillArgs, run, "change",
                observed_as=("db.connections_terminated",), example={"pid": 4242})
