"""The fault journal: an append-only JSONL file per stack, fsynced before a fault is injected.

    inject (intent + snapshot) ─▶ fault.inject ─▶ injected (data) ─▶ ... ─▶ revert ─▶ reverted
       lease_until                                  lease_until     renew (run_id, lease_until) ...

A fault is active from its `inject` line until its `reverted` line, so a runner killed with
kill -9 at any point leaves enough on disk for `gameday recover` to undo it. A torn last line
(a crash mid-write) is ignored on read.

A fault may carry a lease (`lease_until`, wall time; lab.core.lease): a drill renews the leases
of all its run's faults with one `renew` line (fault_id "", its run_id); once a lease runs out,
the stack's watchdog reverts the fault (its `revert` line says `by` whom and why).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


JOURNAL = "faults.jsonl"  # the name of a stack's fault journal in its run dir


@dataclass(frozen=True)
class ActiveFault:
    """A fault the journal says is (or may be) in effect."""

    fault_id: str
    kind: str
    params: dict[str, Any]
    data: dict[str, Any]
    run_id: str | None
    injected_at: float
    confirmed: bool  # False: the injector died before recording success
    lease_until: float | None = None  # wall time the lease runs out; None: no lease (active until reverted)


@dataclass
class FaultJournal:
    """Append-only record of every inject and revert on one stack."""

    path: Path
    _seq: int = field(default=0, init=False)

    def append(self, op: str, fault_id: str, kind: str, params: dict[str, Any] | None = None,
               data: dict[str, Any] | None = None, run_id: str | None = None, error: str | None = None,
               lease_until: float | None = None, by: str | None = None, reason: str | None = None) -> None:
        """Write one line and fsync it before returning."""
        record: dict[str, Any] = {"t": time.time(), "op": op, "fault_id": fault_id, "kind": kind,
                                  "params": params or {}, "data": data or {}, "run_id": run_id}
        for key, value in (("error", error), ("lease_until", lease_until), ("by", by), ("reason", reason)):
            if value is not None and value != "":
                record[key] = value
        self._write([record])

    def renew(self, run_id: str, lease_until: float) -> None:
        """Renew the lease of every active fault of one run that has a lease (one line)."""
        self._write([{"t": time.time(), "op": "renew", "fault_id": "", "kind": "", "params": {}, "data": {},
                      "run_id": run_id, "lease_until": lease_until}])

    def extend(self, records: list[dict[str, Any]]) -> None:
        """Append ready-made records (a copy of another journal's lines) with one fsync."""
        if records:
            self._write(records)

    def _write(self, records: list[dict[str, Any]]) -> None:
        """Append whole lines under an exclusive lock, fsynced before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = "".join(json.dumps(r, sort_keys=True) + "\n" for r in records).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def records(self) -> list[dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        out = []
        for line in raw.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a torn last line from a crash mid-write
        return out

    def active(self) -> dict[str, ActiveFault]:
        """Faults injected (or being injected) and not yet reverted, in injection order."""
        return active_in(self.records())

    def used_ids(self) -> set[str]:
        return {rec["fault_id"] for rec in self.records() if rec["fault_id"]}


def active_in(records: list[dict[str, Any]]) -> dict[str, ActiveFault]:
    """The active faults of these journal lines (FaultJournal.active), in injection order."""
    current: dict[str, ActiveFault] = {}
    for rec in records:
        fid = rec["fault_id"]
        if rec["op"] == "inject":
            current[fid] = ActiveFault(fid, rec["kind"], rec["params"], rec["data"], rec.get("run_id"),
                                       rec["t"], confirmed=False, lease_until=rec.get("lease_until"))
        elif rec["op"] == "injected" and fid in current:
            prev = current[fid]
            current[fid] = replace(prev, data={**prev.data, **rec["data"]}, confirmed=True,
                                   lease_until=rec.get("lease_until", prev.lease_until))
        elif rec["op"] == "renew":
            for key, prev in current.items():
                if prev.run_id == rec.get("run_id") and prev.lease_until is not None:
                    current[key] = replace(prev, lease_until=max(prev.lease_until, rec["lease_until"]))
        elif rec["op"] == "reverted":
            current.pop(fid, None)
    return current
