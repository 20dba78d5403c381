"""scale-web: change the number of Arcade worker processes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args


class ScaleArgs(Args):
    workers: int = Field(ge=1, le=64)


def run(ctx: ActionContext, args: ScaleArgs) -> dict[str, Any]:
    before = len(ctx.stack.web_workers())
    after = ctx.stack.scale_web(args.workers)
    return {"before": before, "after": after, "direction": "up" if after > before else "down" if after < before else "same"}


ACTION = Action("scale-web", "set the number of Arcade worker processes", ScaleArgs, run, "change",
                observed_as=("web.scaled",), example={"workers": 4})
