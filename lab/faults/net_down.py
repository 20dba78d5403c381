"""net_down: the link to PostgreSQL cut (the proxy disabled: refused connections)."""

from __future__ import annotations

from typing import Any

from lab.faults.base import Fault, FaultContext, Symptom
from lab.faults.db_stop import NoParams
from lab.stack.base import PROXY_NAME


def inject(ctx: FaultContext, p: NoParams) -> dict[str, Any]:
    ctx.toxiproxy().get_proxy(PROXY_NAME).disable()
    return {}


def revert(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> None:
    ctx.toxiproxy().get_proxy(PROXY_NAME).enable()


def cause_present(ctx: FaultContext, p: NoParams, data: dict[str, Any]) -> bool:
    return not ctx.toxiproxy().get_proxy(PROXY_NAME).enabled


FAULT = Fault(
    name="net_down",
    summary="cut the link between Arcade and PostgreSQL",
    params=NoParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("every request that needs the DB fails with db_unavailable", availability_below=0.2),
    example={},
)
