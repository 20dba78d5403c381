"""web_worker_kill: Arcade worker processes killed (gunicorn starts new ones)."""

from __future__ import annotations

import os
import signal
from typing import Any

from pydantic import Field

from lab.faults.base import Fault, FaultContext, never_present, nothing_to_undo, Params, Symptom


class KillParams(Params):
    count: int = Field(1, ge=1, le=64)


def inject(ctx: FaultContext, p: KillParams) -> dict[str, Any]:
    killed = []
    for pid in ctx.stack.web_workers()[: p.count]:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return {"killed": killed}


FAULT = Fault(
    name="web_worker_kill",
    summary="SIGKILL N Arcade worker processes (in-flight requests fail)",
    params=KillParams,
    inject=inject,
    revert=nothing_to_undo,
    cause_present=never_present,
    symptom=Symptom("in-flight requests on the killed workers fail"),
    observed_as=('web.scaled',),
    example={'count': 1},
    instant=True,
)
