"""db_restart: PostgreSQL restarted (every connection dropped once)."""

from __future__ import annotations

from typing import Any

from lab.faults.base import Fault, FaultContext, never_present, nothing_to_undo, Symptom
from lab.faults.db_stop import NoParams


def inject(ctx: FaultContext, p: NoParams) -> dict[str, Any]:
    ctx.stack.service("db").restart()
    return {}


FAULT = Fault(
    name="db_restart",
    summary="restart PostgreSQL (drops every connection once)",
    params=NoParams,
    inject=inject,
    revert=nothing_to_undo,
    cause_present=never_present,
    symptom=Symptom("a short burst of db_unavailable errors while the server restarts"),
    observed_as=('db.restarted', 'db.connections_terminated',),
    example={},
    instant=True,
)
