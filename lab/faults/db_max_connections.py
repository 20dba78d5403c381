"""db_max_connections: PostgreSQL restarted with a lower max_connections."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from lab.faults.base import Fault, FaultContext, Params, Symptom


class MaxConnParams(Params):
    value: int = Field(10, ge=5, le=10000)


def snapshot(ctx: FaultContext, p: MaxConnParams) -> dict[str, Any]:
    return {"before": ctx.stack.settings().db.max_connections}


def inject(ctx: FaultContext, p: MaxConnParams) -> dict[str, Any]:
    ctx.stack.reconfigure([f"db.max_connections={p.value}"], restart=("db",))
    return {}


def revert(ctx: FaultContext, p: MaxConnParams, data: dict[str, Any]) -> None:
    before = int(data["before"])
    if ctx.stack.settings().db.max_connections != before:
        ctx.stack.reconfigure([f"db.max_connections={before}"], restart=("db",))


def cause_present(ctx: FaultContext, p: MaxConnParams, data: dict[str, Any]) -> bool:
    return ctx.stack.settings().db.max_connections == p.value


FAULT = Fault(
    name="db_max_connections",
    summary="restart PostgreSQL with a lower max_connections",
    params=MaxConnParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("fewer connection slots: busy periods get 'too many clients'"),
    observed_as=('db.restarted', 'db.connections_terminated',),
    example={'value': 20},
    snapshot=snapshot,
)
