"""enable-pooler: put PgBouncer between Arcade and PostgreSQL, for real.

Many client connections then share a few server connections (transaction pooling by default),
which is what the March 2023 postmortem asked for.
"""

from __future__ import annotations

from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    return ctx.stack.enable_pooler()


ACTION = Action("enable-pooler", "put PgBouncer between Arcade and PostgreSQL", NoArgs, run, "change",
                observed_as=("web.restarted", "web.scaled"))
