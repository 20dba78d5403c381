"""logs: the last lines of one service's log."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args


class LogsArgs(Args):
    service: Literal["db", "web", "proxy", "loadgen"]
    lines: int = Field(30, ge=1, le=1000)


def run(ctx: ActionContext, args: LogsArgs) -> dict[str, Any]:
    return {"service": args.service, "lines": ctx.stack.logs(args.service, args.lines).splitlines()}


ACTION = Action("logs", "the last lines of a service's log", LogsArgs, run, "inspect",
                example={"service": "db", "lines": 50})
