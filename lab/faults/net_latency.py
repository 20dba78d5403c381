"""net_latency: latency (with jitter) between Arcade and PostgreSQL, through the proxy."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults import toxics
from lab.faults.base import Fault, FaultContext, Params, Symptom


class LatencyParams(Params):
    latency_ms: int = Field(200, ge=0, le=600_000)
    jitter_ms: int = Field(0, ge=0, le=600_000)
    stream: Literal["upstream", "downstream"] = "downstream"


def inject(ctx: FaultContext, p: LatencyParams) -> dict[str, Any]:
    return toxics.add(ctx, "latency", p.stream, {"latency": p.latency_ms, "jitter": p.jitter_ms})


FAULT = Fault(
    name="net_latency",
    summary="add latency (and jitter) to every DB round trip",
    params=LatencyParams,
    inject=inject,
    revert=toxics.remove,
    cause_present=toxics.present,
    symptom=Symptom("every page that queries the DB gets slower", latency_p95_above_ms=150),
    example={'latency_ms': 300},
)
