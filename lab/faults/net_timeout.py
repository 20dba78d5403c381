"""net_timeout: the link to PostgreSQL swallows data, then closes (a dead network path)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.faults import toxics
from lab.faults.base import Fault, FaultContext, Params, Symptom


class TimeoutParams(Params):
    timeout_ms: int = Field(0, ge=0, le=3_600_000, description="close after this long idle; 0 never")
    stream: Literal["upstream", "downstream"] = "upstream"


def inject(ctx: FaultContext, p: TimeoutParams) -> dict[str, Any]:
    return toxics.add(ctx, "timeout", p.stream, {"timeout": p.timeout_ms})


FAULT = Fault(
    name="net_timeout",
    summary="drop all data on the DB link (and close it after timeout_ms)",
    params=TimeoutParams,
    inject=inject,
    revert=toxics.remove,
    cause_present=toxics.present,
    symptom=Symptom("DB calls hang until Arcade's deadline: db_timeout", availability_below=0.2),
    example={'timeout_ms': 0},
)
