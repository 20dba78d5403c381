"""net_reset_peer: connections to PostgreSQL reset (TCP RST) after a delay."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults import toxics
from lab.faults.base import Fault, FaultContext, Params, Symptom


class ResetParams(Params):
    timeout_ms: int = Field(0, ge=0, le=3_600_000)
    stream: Literal["upstream", "downstream"] = "upstream"


def inject(ctx: FaultContext, p: ResetParams) -> dict[str, Any]:
    return toxics.add(ctx, "reset_peer", p.stream, {"timeout": p.timeout_ms})


FAULT = Fault(
    name="net_reset_peer",
    summary="reset DB connections (ECONNRESET) once data flows",
    params=ResetParams,
    inject=inject,
    revert=toxics.remove,
    cause_present=toxics.present,
    symptom=Symptom("requests fail with db_unavailable (connection reset)", availability_below=0.5),
    example={'timeout_ms': 0},
)
