"""bad_deploy: Arcade redeployed with a flag that breaks one endpoint."""

from __future__ import annotations

from typing import Any, Literal

from lab.faults.base import Fault, FaultContext, Params, Symptom


class DeployParams(Params):
    flag: Literal["broken_leaderboard"] = "broken_leaderboard"


def _set_flags(ctx: FaultContext, flags: list[str]) -> None:
    ctx.stack.reconfigure([f"web.flags=[{', '.join(flags)}]"], restart=("web",))


def snapshot(ctx: FaultContext, p: DeployParams) -> dict[str, Any]:
    return {"before": list(ctx.stack.settings().web.flags)}


def inject(ctx: FaultContext, p: DeployParams) -> dict[str, Any]:
    before = list(ctx.stack.settings().web.flags)
    if p.flag not in before:
        _set_flags(ctx, [*before, p.flag])
    return {}


def revert(ctx: FaultContext, p: DeployParams, data: dict[str, Any]) -> None:
    if p.flag in ctx.stack.settings().web.flags:
        _set_flags(ctx, [f for f in ctx.stack.settings().web.flags if f != p.flag])


def cause_present(ctx: FaultContext, p: DeployParams, data: dict[str, Any]) -> bool:
    return p.flag in ctx.stack.settings().web.flags


FAULT = Fault(
    name="bad_deploy",
    summary="redeploy Arcade with a flag that breaks an endpoint (rollback reverts it)",
    params=DeployParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("GET /leaderboard answers 500", route="/leaderboard"),
    observed_as=('web.restarted', 'web.scaled',),
    example={},
    snapshot=snapshot,
)
