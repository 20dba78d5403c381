"""lock_contention: a long transaction holding an exclusive lock on a hot table."""

from __future__ import annotations

from typing import Any, Literal

from lab.faults import connection_hog
from lab.faults.base import Fault, FaultContext, Params, Symptom


class LockParams(Params):
    table: Literal["players", "scores", "best_scores", "matches", "purchases", "items", "games"] = "best_scores"


def inject(ctx: FaultContext, p: LockParams) -> dict[str, Any]:
    return connection_hog.start_holder(ctx, "arcade-migrate", "--connections", "1", "--lock", p.table, ready=1)


FAULT = Fault(
    name="lock_contention",
    summary="hold an ACCESS EXCLUSIVE lock on a hot table in an open transaction",
    params=LockParams,
    inject=inject,
    revert=connection_hog.revert,
    cause_present=connection_hog.cause_present,
    symptom=Symptom("requests that touch the table wait on the lock until they time out",
                    availability_below=0.9, route="/leaderboard"),
    observed_as=("db.connections_terminated",),
    example={"table": "best_scores"},
)
