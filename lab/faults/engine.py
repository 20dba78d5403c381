"""Inject, revert and recover faults on a stack, journaled so that nothing is lost or left active."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from lab.core.errors import did_you_mean, first_error
from lab.errors import UsageError
from lab.faults import FAULTS
from lab.faults.base import FaultContext, FaultError
from lab.faults.journal import JOURNAL, ActiveFault, FaultJournal
from lab.stack.base import Stack

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def journal_for(stack: Stack) -> FaultJournal:
    return FaultJournal(stack.run_dir / JOURNAL)


def check(kind: str, params: Mapping[str, Any], where: str = "") -> Any:
    """Validate a fault kind and its parameters; UsageError naming the field otherwise."""
    fault = FAULTS.get(kind)
    if fault is None:
        raise UsageError(f"{where}unknown fault '{kind}'{did_you_mean(kind, FAULTS)}")
    try:
        return fault.params.model_validate(dict(params))
    except ValidationError as exc:
        raise UsageError(f"{where}{kind}: {first_error(exc, fault.params, prefix=('params',))}") from None


def new_id(stack: Stack, kind: str) -> str:
    used = journal_for(stack).used_ids()
    n = 1
    while f"{kind}-{n}" in used:
        n += 1
    return f"{kind}-{n}"


def inject(stack: Stack, kind: str, params: Mapping[str, Any], fault_id: str | None = None,
           run_id: str | None = None, lease_s: float | None = None) -> str:
    """Journal, then inject one fault; return its id. A failed injection is reverted and journaled.

    With `lease_s`, the fault carries a lease that runs out that long after it is journaled (and
    again from its confirmation): unless renewed (`FaultJournal.renew`), the stack's watchdog
    reverts it. None: no lease, active until reverted."""
    p = check(kind, params)
    fault = FAULTS[kind]
    journal = journal_for(stack)
    fault_id = fault_id or new_id(stack, kind)
    if not ID_RE.match(fault_id):
        raise UsageError(f"--id {fault_id!r}: use lowercase letters, digits, '-' or '_'")
    if fault_id in journal.active():
        raise UsageError(f"fault '{fault_id}' is already active; `gameday revert {fault_id}` first")
    ctx = FaultContext(stack, fault_id)
    snapshot = fault.snapshot(ctx, p) if fault.snapshot else {}
    clean = p.model_dump(mode="json")
    journal.append("inject", fault_id, kind, clean, snapshot, run_id, lease_until=_lease(lease_s))
    try:
        data = fault.inject(ctx, p)
    except Exception as exc:
        try:
            fault.revert(ctx, p, snapshot)
        finally:
            journal.append("reverted", fault_id, kind, clean, run_id=run_id, error=str(exc))
        raise FaultError(f"{kind}: injection failed and was undone: {exc}") from exc
    journal.append("injected", fault_id, kind, clean, data, run_id, lease_until=_lease(lease_s))
    if not fault.instant and fault_id not in journal.active():  # reverted while being injected (an
        fault.revert(ctx, p, {**snapshot, **data})               # emergency stop, the watchdog): undo what came after
        journal.append("reverted", fault_id, kind, clean, run_id=run_id, reason="reverted while being injected")
        return fault_id
    if fault.instant:
        journal.append("reverted", fault_id, kind, clean, run_id=run_id)
    return fault_id


def _lease(lease_s: float | None) -> float | None:
    return None if lease_s is None else round(time.time() + lease_s, 3)


def revert(stack: Stack, active: ActiveFault, by: str | None = None, reason: str | None = None) -> None:
    """Undo one active fault (idempotent) and journal it (`by` whom and why, when not its runner)."""
    fault = FAULTS[active.kind]
    p = fault.params.model_validate(active.params)
    journal = journal_for(stack)
    journal.append("revert", active.fault_id, active.kind, active.params, run_id=active.run_id, by=by, reason=reason)
    fault.revert(FaultContext(stack, active.fault_id), p, active.data)
    journal.append("reverted", active.fault_id, active.kind, active.params, run_id=active.run_id, by=by, reason=reason)


def revert_id(stack: Stack, fault_id: str) -> ActiveFault:
    active = journal_for(stack).active()
    if fault_id not in active:
        hint = did_you_mean(fault_id, active) if active else "; no fault is active"
        raise UsageError(f"fault '{fault_id}' is not active{hint}")
    revert(stack, active[fault_id])
    return active[fault_id]


def revert_all(stack: Stack, run_id: str | None = None, by: str | None = None,
               reason: str | None = None) -> list[ActiveFault]:
    """Revert every active fault (of one run, if given), newest first; keep going past failures."""
    done: list[ActiveFault] = []
    errors: list[str] = []
    for active in reversed(list(journal_for(stack).active().values())):
        if run_id is not None and active.run_id != run_id:
            continue
        try:
            revert(stack, active, by=by, reason=reason)
            done.append(active)
        except Exception as exc:  # one fault that cannot be undone must not block the others
            errors.append(f"{active.fault_id}: {exc}")
    if errors:
        raise FaultError("could not revert: " + "; ".join(errors))
    return done


def cause_present(stack: Stack, active: ActiveFault) -> bool:
    fault = FAULTS[active.kind]
    p = fault.params.model_validate(active.params)
    return fault.cause_present(FaultContext(stack, active.fault_id), p, active.data)
