"""lock_contention: a long transaction holding an exclusive lock on a hot table."""

from __future__ import annotations

import sys
from typing import Any, Literal

from lab.faults import connection_hog
from lab.faults.base import Fault, FaultContext, Params, Symptom
from lab.stack import postgres, procs


class LockParams(Params):
    table: Literal["players", "scores", "best_scores", "matches", "purchases", "items", "games"] = "best_scores"


def inject(ctx: FaultContext, p: LockParams) -> dict[str, Any]:
    stack = ctx.stack
    creds = postgres.Secrets.load(stack.run_dir / "pg" / "secrets.json")
    db_port = stack.address("db").split(":")[1]
    dsn = (
        f"host=127.0.0.1 port={db_port} dbname={postgres.APP_DB} user={postgres.APP_ROLE} "
        f"password={creds.app_password} application_name=arcade-migrate"
    )
    argv = [sys.executable, "-m", "lab.faults.holder", "--dsn", dsn, "--connections", "1",
            "--lock", p.table, "--pids", connection_hog._pids_file(ctx)]
    pid = procs.spawn(argv, stack.run_dir / "logs" / f"fault-{ctx.fault_id}.log", cwd=stack.run_dir)
    procs.wait_until(lambda: bool(connection_hog._held(ctx)) or not procs.alive(pid), 10.0, 0.05)
    return {"pid": pid}


FAULT = Fault(
    name="lock_contention",
    summary="hold an ACCESS EXCLUSIVE lock on a hot table in an open transaction",
    params=LockParams,
    inject=inject,
    revert=connection_hog.revert,
    cause_present=connection_hog.cause_present,
    symptom=Symptom("requests that touch the table wait on the lock until they time out",
                    availability_below=0.9, route="/leaderboard"),
)
