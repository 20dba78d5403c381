"""health_check_churn: a load balancer that replaces Arcade's workers when its health check fails.

    every check_every_ms: GET /readyz (one DB round trip) ──fails N times──▶ kill a worker
                                                                            + its replacement's
                                                                              start-up queries
    slow database ─▶ failed checks ─▶ replaced tasks ─▶ dropped requests + more DB load ─▶ ...

The checker acts only while the checks fail, so on a healthy site it does nothing. Its timings are
real milliseconds (not drill seconds: a balancer's clock is not compressed). Revert stops it;
gunicorn has already replaced every worker it killed.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from lab.faults.base import Fault, FaultContext, FaultError, Params, Symptom
from lab.faults.helper import Helper

RECENT_S = 10.0  # a replacement within this long counts as churn still going on


class ChurnParams(Params):
    check_every_ms: int = Field(500, ge=50, le=60_000, description="how often the balancer checks /readyz")
    check_timeout_ms: int = Field(1000, ge=50, le=60_000, description="a check slower than this fails")
    unhealthy_after: int = Field(2, ge=1, le=100, description="failed checks in a row before a task is replaced")
    startup_queries: int = Field(4, ge=0, le=100, description="database reads a new task makes as it starts")


def balancer(ctx: FaultContext) -> Helper:
    """The lab.faults.churn_worker process of this fault (its state: checks, failures, replacements)."""
    return Helper(ctx, "churn")


def inject(ctx: FaultContext, p: ChurnParams) -> dict[str, Any]:
    master = ctx.stack.state().services["web"].pid
    if not master:
        raise FaultError("health_check_churn: Arcade's web service is not running")
    return balancer(ctx).start(
        "lab.faults.churn_worker", "--url", ctx.stack.urls()["arcade"] + "readyz", "--master", str(master),
        "--dsn", ctx.stack.app_dsn(application_name="arcade-startup"), "--every-ms", str(p.check_every_ms),
        "--timeout-ms", str(p.check_timeout_ms), "--unhealthy-after", str(p.unhealthy_after),
        "--startup-queries", str(p.startup_queries),
        ready=lambda state: state.get("checks", 0) >= 1)  # its first check is done


def revert(ctx: FaultContext, p: ChurnParams, data: dict[str, Any]) -> None:
    balancer(ctx).stop(data)


def cause_present(ctx: FaultContext, p: ChurnParams, data: dict[str, Any]) -> bool:
    """Tasks are still being replaced (one within the last RECENT_S seconds)."""
    last = balancer(ctx).state().get("last_replaced")
    if not last:
        return False
    return time.time() - float(last) < RECENT_S and balancer(ctx).alive(data)


FAULT = Fault(
    name="health_check_churn",
    summary="a balancer replaces Arcade workers whose DB health check fails; each replacement loads the DB",
    params=ChurnParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("nothing while the site is healthy; under load, replaced workers drop requests and add DB load"),
    example={"check_every_ms": 200, "check_timeout_ms": 500, "unhealthy_after": 1},
)
