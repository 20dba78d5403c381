"""db_pause: every PostgreSQL process frozen with SIGSTOP (holds its sockets, answers nothing)."""

from __future__ import annotations

from typing import Any

from lab.faults.base import Fault, FaultContext, Symptom
from lab.faults.db_stop import NoParams


def inject(ctx: FaultContext, p: NoParams) -> dict[str, Any]:
    ctx.stack.service("db").pause()
    return {}


def revert(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> None:
    ctx.stack.service("db").resume()


def cause_present(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> bool:
    return ctx.stack.state().services["db"].paused


FAULT = Fault(
    name="db_pause",
    summary="freeze PostgreSQL (SIGSTOP every process; docker pause in compose)",
    params=NoParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("requests hang until their deadline, then fail with db_timeout", availability_below=0.2),
    example={},
)
