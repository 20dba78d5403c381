"""net_bandwidth: a slow pipe between Arcade and PostgreSQL."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults import toxics
from lab.faults.base import Fault, FaultContext, Params, Symptom


class BandwidthParams(Params):
    rate_kb_s: int = Field(8, ge=0, le=10_000_000, description="KB/s (1 KB = 1000 bytes); 0 stalls")
    stream: Literal["upstream", "downstream"] = "downstream"


def inject(ctx: FaultContext, p: BandwidthParams) -> dict[str, Any]:
    return toxics.add(ctx, "bandwidth", p.stream, {"rate": p.rate_kb_s})


FAULT = Fault(
    name="net_bandwidth",
    summary="limit the bandwidth between Arcade and PostgreSQL",
    params=BandwidthParams,
    inject=inject,
    revert=toxics.remove,
    cause_present=toxics.present,
    symptom=Symptom("pages with large results (the lobby) slow down first", latency_p95_above_ms=150),
    example={'rate_kb_s': 1},
)
