"""status: each service's health and the DB connections in use (what `gameday status` shows)."""

from __future__ import annotations

from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    st = ctx.stack.status()
    return {
        "services": {s.name: s.health for s in st.services},
        "db_connections": f"{st.db_connections_used}/{st.db_max_connections}",
    }


ACTION = Action("status", "each service's health and the DB connections in use", NoArgs, run, "inspect")
