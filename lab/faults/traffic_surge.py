"""traffic_surge: the load generator's rate multiplied, with a shape (a tournament launch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults.base import Fault, FaultContext, Params, Symptom


class SurgeParams(Params):
    factor: float = Field(5.0, gt=1, le=1000, description="target rate = baseline x factor")
    shape: Literal["constant", "step", "ramp", "spike"] = "ramp"
    ramp_s: float = Field(10.0, ge=0, le=3600, description="time to reach the target (ramp, step)")


def snapshot(ctx: FaultContext, p: SurgeParams) -> dict[str, Any]:
    return {"baseline": float(ctx.loadgen("GET", "/state").get("rate", 0.0))}


def inject(ctx: FaultContext, p: SurgeParams) -> dict[str, Any]:
    baseline = snapshot(ctx, p)["baseline"]
    body: dict[str, Any] = {"rate": baseline * p.factor, "shape": p.shape}
    if p.shape in ("ramp", "step"):
        body["duration_s"] = p.ramp_s
        body["from_rate"] = baseline
    ctx.loadgen("POST", "/rate", body)
    return {}


def revert(ctx: FaultContext, p: SurgeParams, data: dict[str, Any]) -> None:
    baseline = data.get("baseline", ctx.stack.settings().loadgen.rate)
    ctx.loadgen("POST", "/rate", {"rate": float(baseline), "shape": "constant"})


def cause_present(ctx: FaultContext, p: SurgeParams, data: dict[str, Any]) -> bool:
    return float(ctx.loadgen("GET", "/state").get("rate", 0.0)) > float(data.get("baseline", 0.0)) * 1.05


FAULT = Fault(
    name="traffic_surge",
    summary="multiply the player traffic (shape constant, step, ramp or spike)",
    params=SurgeParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("more requests than the site was provisioned for"),
    snapshot=snapshot,
)
