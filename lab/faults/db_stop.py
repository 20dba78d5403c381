"""db_stop: PostgreSQL stopped."""

from __future__ import annotations

from typing import Any

from lab.faults.base import Fault, FaultContext, Params, Symptom


class NoParams(Params):
    pass


def inject(ctx: FaultContext, p: NoParams) -> dict[str, Any]:
    ctx.stack.service("db").stop()
    return {}


def revert(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> None:
    if not cause_present(ctx, p, data):
        return
    ctx.stack.service("db").start()


def cause_present(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> bool:
    return ctx.stack.state().services["db"].pid is None


FAULT = Fault(
    name="db_stop",
    summary="stop PostgreSQL",
    params=NoParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("every request that needs the DB fails with db_unavailable", availability_below=0.2),
    observed_as=('db.restarted', 'db.connections_terminated',),
    example={},
)
