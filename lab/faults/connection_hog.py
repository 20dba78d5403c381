"""connection_hog: leaked connections that hold DB slots (idle, or idle in transaction)."""

from __future__ import annotations

import signal
import time
from typing import Any, Literal

from pydantic import Field

from lab.faults.base import Fault, FaultContext, Params, Symptom
from lab.faults.helper import Helper


class HogParams(Params):
    connections: int = Field(10, ge=1, le=5000)
    state: Literal["idle", "idle_in_transaction"] = "idle_in_transaction"
    ramp_s: float = Field(0.0, ge=0, le=3600, description="open them gradually, as a leak grows")
    application_name: str = Field("arcade", pattern=r"^[a-z][a-z0-9_.-]{0,39}$",
                                  description="what the sessions call themselves (pg_stat_activity.application_name)")


def holder(ctx: FaultContext) -> Helper:
    """The lab.faults.holder process of this fault (its state: the backend pids it holds)."""
    return Helper(ctx, "hog")


def start_holder(ctx: FaultContext, application_name: str, *args: str, ready: int = 0) -> dict[str, Any]:
    """Start lab.faults.holder as Arcade's role, straight to PostgreSQL (the leak is not a network
    fault); wait until it holds `ready` sessions (0: do not wait)."""
    dsn = ctx.stack.app_dsn(via_proxy=False, application_name=application_name)
    return holder(ctx).start("lab.faults.holder", "--dsn", dsn, *args,
                             ready=lambda state: len(state.get("backends", [])) >= ready)


def held(ctx: FaultContext) -> list[int]:
    """The backend pids the holder holds now."""
    return [int(pid) for pid in holder(ctx).state().get("backends", [])]


def inject(ctx: FaultContext, p: HogParams) -> dict[str, Any]:
    # all at once: wait until they are held (or the server is full); a ramp: do not wait
    return start_holder(ctx, p.application_name, "--connections", str(p.connections), "--session-state", p.state,
                        "--ramp-s", str(p.ramp_s), ready=p.connections if p.ramp_s == 0 else 0)


def revert(ctx: FaultContext, p: Any, data: dict[str, Any]) -> None:
    # it keeps nothing worth a clean exit: SIGKILL, and the server sees its sockets close
    holder(ctx).stop(data, signal.SIGKILL)
    backends = held(ctx)
    if backends and ctx.stack.is_up():
        ctx.stack.sql("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (backends,))
    deadline = time.monotonic() + 3
    while backends and time.monotonic() < deadline and cause_present(ctx, p, data):
        time.sleep(0.05)


def cause_present(ctx: FaultContext, p: Any, data: dict[str, Any]) -> bool:
    backends = held(ctx)
    if not backends:
        return holder(ctx).alive(data)
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
