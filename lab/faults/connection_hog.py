"""connection_hog: leaked connections that hold DB slots (idle, or idle in transaction)."""

from __future__ import annotations

import signal
import sys
import time
from typing import Any, Literal

from pydantic import Field

from lab.faults.base import Fault, FaultContext, helper_pid, Params, Symptom
from lab.stack import procs


class HogParams(Params):
    connections: int = Field(10, ge=1, le=5000)
    state: Literal["idle", "idle_in_transaction"] = "idle_in_transaction"
    ramp_s: float = Field(0.0, ge=0, le=3600, description="open them gradually, as a leak grows")


def _pids_file(ctx: FaultContext) -> str:
    return str(ctx.state_dir / f"{ctx.fault_id}.pids")


def spawn_holder(ctx: FaultContext, application_name: str, *args: str) -> int:
    """Start lab.faults.holder as Arcade's role, straight to PostgreSQL (the leak is not a network fault)."""
    dsn = ctx.stack.app_dsn(via_proxy=False, application_name=application_name)
    argv = [sys.executable, "-m", "lab.faults.holder", "--dsn", dsn, "--pids", _pids_file(ctx), *args]
    return procs.spawn(argv, ctx.stack.run_dir / "logs" / f"fault-{ctx.fault_id}.log", cwd=ctx.stack.run_dir)


def inject(ctx: FaultContext, p: HogParams) -> dict[str, Any]:
    pid = spawn_holder(ctx, "arcade", "--connections", str(p.connections), "--state", p.state,
                       "--ramp-s", str(p.ramp_s))
    if p.ramp_s == 0:  # all at once: wait until they are held (or the server is full)
        procs.wait_until(lambda: len(_held(ctx)) >= p.connections or not procs.alive(pid), 10.0, 0.05)
    return {"pid": pid}


def _held(ctx: FaultContext) -> list[int]:
    try:
        with open(_pids_file(ctx)) as fh:
            return [int(x) for x in fh.read().split()]
    except (OSError, ValueError):
        return []


def _holder_pid(ctx: FaultContext, data: dict[str, Any]) -> int | None:
    return helper_pid(data, _pids_file(ctx))


def revert(ctx: FaultContext, p: HogParams, data: dict[str, Any]) -> None:
    pid = _holder_pid(ctx, data)
    if pid:  # it keeps nothing worth a clean exit: SIGKILL, and the server sees its sockets close
        procs.stop_tree(pid, signal.SIGKILL, grace=3)
    backends = _held(ctx)
    if backends and ctx.stack.is_up():
        ctx.stack.sql("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (backends,))
    deadline = time.monotonic() + 3
    while backends and time.monotonic() < deadline and cause_present(ctx, p, data):
        time.sleep(0.05)


def cause_present(ctx: FaultContext, p: HogParams, data: dict[str, Any]) -> bool:
    backends = _held(ctx)
    if not backends:
        pid = _holder_pid(ctx, data)
        return pid is not None and procs.alive(pid)
    (alive,), = ctx.stack.sql("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s::int[])", (backends,))
    return bool(alive)


FAULT = Fault(
    name="connection_hog",
    summary="open and hold N DB connections as Arcade's role (leaked connections)",
    params=HogParams,
    inject=inject,
    revert=revert,
    cause_present=cause_present,
    symptom=Symptom("DB connection slots taken by sessions nobody uses; new connections refused when full"),
    observed_as=("db.connections_terminated",),
    example={"connections": 5},
)
