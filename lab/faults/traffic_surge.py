"""traffic_surge: the load generator's rate multiplied, with a shape (a tournament launch)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults.base import Fault, FaultContext, Params, Symptom


class SurgeParams(Params):
    factor: float = Field(5.0, gt=1, le=1000, description="target rate = baseline x factor")
    shape: Literal["constant", "step", "ramp", "spike"] = "ramp"
    ramp_s: float = Field(10.0, ge=0, le=3600, description="ramp: time to reach the target; step: delay")
    spike_s: float = Field(30.0, gt=0, le=3600, description="spike: how long the peak lasts")


def snapshot(ctx: FaultContext, p: SurgeParams) -> dict[str, Any]:
    return {"baseline": ctx.loadgen().state().current_rate}


def inject(ctx: FaultContext, p: SurgeParams) -> dict[str, Any]:
    baseline = snapshot(ctx, p)["baseline"]
    target = max(baseline, 1.0) * p.factor
    control = ctx.loadgen()
    if p.shape == "constant":
        control.set(target)
    elif p.shape == "ramp":
        control.set(baseline, "ramp", to=target, over=max(p.ramp_s, 0.001))
    elif p.shape == "step":
        control.set(baseline, "step", to=target, at=p.ramp_s)
    else:
        control.set(baseline, "spike", to=target, at=0, duration=p.spike_s)
    return {"target": target}


def revert(ctx: FaultContext, p: SurgeParams, data: dict[str, Any]) -> None:
    baseline = data.get("baseline", ctx.stack.settings().loadgen.rate)
    ctx.loadgen().set(float(baseline))


def cause_present(ctx: FaultContext, p: SurgeParams, data: dict[str, Any]) -> bool:
    state = ctx.loadgen().state()
    baseline = float(data.get("baseline", 0.0))
    return max(state.current_rate, state.params.get("to", 0.0)) > baseline * 1.05 + 0.01


FAULT = Fault(
    name="traffic_surge",
    summary="multiply the player traffic (shape constant, step, ramp or spike)",
    params=SurgeParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("more requests than the site was provisioned for"),
    observed_as=('db.connections_terminated',),
    example={'factor': 4, 'shape': 'constant'},
    snapshot=snapshot,
)
