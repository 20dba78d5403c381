"""terminate-idle-connections: end Arcade's sessions that sit idle (or idle in transaction)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args


class TerminateArgs(Args):
    older_than_s: float = Field(10.0, ge=0, le=86400, description="idle for at least this long, in drill seconds")
    state: Literal["idle", "idle in transaction", "any"] = "any"


def run(ctx: ActionContext, args: TerminateArgs) -> dict[str, Any]:
    states = ["idle", "idle in transaction"] if args.state == "any" else [args.state]
    rows = ctx.stack.sql(
        "SELECT pid, state, pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE backend_type = 'client backend' AND usename = 'arcade' AND state = ANY(%s) "
        "AND state_change < now() - make_interval(secs => %s) AND pid <> pg_backend_pid()",
        (states, ctx.real_s(args.older_than_s)),
    )
    by_state: dict[str, int] = {}
    for _pid, state, ok in rows:
        if ok:
            by_state[state] = by_state.get(state, 0) + 1
    return {"terminated": sum(by_state.values()), "by_state": by_state}


ACTION = Action("terminate-idle-connections", "terminate Arcade's idle sessions older than N seconds",
                TerminateArgs, run, "change", observed_as=("db.connections_terminated",),
                example={"older_than_s": 30, "state": "idle in transaction"})
