"""rollback-deploy: redeploy Arcade without its feature flags (undoes a bad deploy)."""

from __future__ import annotations

from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    flags = list(ctx.stack.settings().web.flags)
    if flags:
        ctx.stack.reconfigure(["web.flags=[]"], restart=("web",))
    return {"removed_flags": flags}


ACTION = Action("rollback-deploy", "redeploy Arcade without the flags of the last deploy", NoArgs, run, "change",
                observed_as=("web.restarted", "web.scaled"))
