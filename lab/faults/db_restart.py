"""db_restart: PostgreSQL restarted (every connection dropped once)."""

from __future__ import annotations

from typing import Any

from lab.faults.base import Fault, FaultContext, Symptom
from lab.faults.db_stop import NoParams


def inject(ctx: FaultContext, p: NoParams) -> dict[str, Any]:
    ctx.stack.service("db").restart()
    return {}


def revert(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> None:
    """A restart is a one-shot event: nothing to undo."""


def cause_present(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> bool:
    return False


FAULT = Fault(
    name="db_restart",
    summary="restart PostgreSQL (drops every connection once)",
    params=NoParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("a short burst of db_unavailable errors while the server restarts"),
    instant=True,
)
