"""shed-load: turn away a share of player traffic at the edge (rate limit in front of Arcade)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args
from lab.monitor.load import LoadControl


class ShedArgs(Args):
    percent: float = Field(ge=0, le=100)


def run(ctx: ActionContext, args: ShedArgs) -> dict[str, Any]:
    control = LoadControl(ctx.stack.address("loadgen"))
    offered = control.state().current_rate
    admitted = offered * (1 - args.percent / 100)
    control.set(admitted)
    return {"offered_rps": round(offered, 2), "admitted_rps": round(admitted, 2), "percent": args.percent}


ACTION = Action("shed-load", "turn away a share of traffic before it reaches Arcade", ShedArgs, run, "change",
                example={"percent": 30})
