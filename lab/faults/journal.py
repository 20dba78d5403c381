"""The fault journal: an append-only JSONL file per stack, fsynced before a fault is injected.

    inject (intent + snapshot) ─▶ fault.inject ─▶ injected (data) ─▶ ... ─▶ revert ─▶ reverted
       lease_until                                  lease_until     renew (run_id, lease_until) ...

A fault is active from its `inject` line until its `reverted` line, so a runner killed with
kill -9 at any point leaves enough on disk for `gameday recover` to undo it. A torn last line
(a crash mid-write) is ignored on read.

A fault may carry a lease (`lease_until`, wall time; lab.core.lease): a drill renews the leases
of all its run's faults with one `renew` line (fault_id "", its run_id); once a lease runs out,
the stack's watchdog reverts the fault (its `revert` line says `by` whom and why).

A drill adds a `renew` line a second, and the drill, the watchdog and every fault helper look at
the leases several times a second: `active()`, `used_ids()` and `taken_by()` read only the lines
appended since the last look in this process (one fold per journal file, started over when the
file is replaced or shrinks), so a long drill's journal costs no more to watch than a short one's.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lab.stack.files import after_torn_line


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
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, after_torn_line(fd) + data)  # a record glued to a torn line would be lost on read
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
        return _fold(self.path).active()

    def used_ids(self) -> set[str]:
        return set(_fold(self.path).used)

    def taken_by(self, by: str, run_id: str) -> bool:
        """Whether `by` (the watchdog, say) reverted any fault of the run."""
        return (by, run_id) in _fold(self.path).reverted_by


@dataclass
class _Fold:
    """What the lines of one journal file read so far add up to (see the module's docstring)."""

    inode: int = -1
    head: bytes = b""  # the file's first bytes: a file rewritten in place starts the fold over
    offset: int = 0
    current: dict[str, ActiveFault] = field(default_factory=dict)
    renewed: dict[str, float] = field(default_factory=dict)  # run_id: the latest lease_until it renewed to
    used: set[str] = field(default_factory=set)
    reverted_by: set[tuple[str, str]] = field(default_factory=set)  # (by, run_id) of every revert

    def add(self, rec: dict[str, Any]) -> None:
        if rec["op"] == "renew":
            run = rec.get("run_id") or ""
            self.renewed[run] = max(self.renewed.get(run, 0.0), rec["lease_until"])
            return
        _apply(self.current, rec)
        if rec.get("fault_id"):
            self.used.add(rec["fault_id"])
        if rec.get("op") == "revert" and rec.get("by"):
            self.reverted_by.add((rec["by"], rec.get("run_id") or ""))

    def active(self) -> dict[str, ActiveFault]:
        """The active faults, each with its run's latest renewal (a renewal extends every fault
        of its run that has a lease; a later fault's own lease is later than an earlier renewal)."""
        out = {}
        for fid, fault in self.current.items():
            renewed = self.renewed.get(fault.run_id or "")
            if renewed is not None and fault.lease_until is not None and renewed > fault.lease_until:
                fault = replace(fault, lease_until=renewed)
            out[fid] = fault
        return out


_FOLDS: dict[Path, _Fold] = {}
_FOLDS_LOCK = threading.Lock()


def _fold(path: Path) -> _Fold:
    """The fold of `path` brought up to date with the whole lines appended since the last call."""
    with _FOLDS_LOCK:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            _FOLDS.pop(path, None)
            return _Fold()
        try:
            st = os.fstat(fd)
            fold = _FOLDS.get(path)
            if (fold is None or fold.inode != st.st_ino or st.st_size < fold.offset
                    or os.pread(fd, len(fold.head), 0) != fold.head):
                fold = _FOLDS[path] = _Fold(inode=st.st_ino, head=os.pread(fd, 256, 0))
            if st.st_size > fold.offset:
                os.lseek(fd, fold.offset, os.SEEK_SET)
                chunk = b""
                while len(chunk) < st.st_size - fold.offset:
                    more = os.read(fd, st.st_size - fold.offset - len(chunk))
                    if not more:
                        break
                    chunk += more
                whole = chunk.rfind(b"\n") + 1  # a line being written (or torn) waits for its newline
                for line in chunk[:whole].splitlines():
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        continue  # a torn line from a crash mid-write
                    fold.add(rec)
                fold.offset += whole
            return fold
        finally:
            os.close(fd)


def _apply(current: dict[str, ActiveFault], rec: dict[str, Any]) -> None:
    """Fold one journal line (other than a renewal: _Fold.add) into the active faults."""
    fid = rec["fault_id"]
    if rec["op"] == "inject":
        current[fid] = ActiveFault(fid, rec["kind"], rec["params"], rec["data"], rec.get("run_id"),
                                   rec["t"], confirmed=False, lease_until=rec.get("lease_until"))
    elif rec["op"] == "injected" and fid in current:
        prev = current[fid]
        current[fid] = replace(prev, data={**prev.data, **rec["data"]}, confirmed=True,
                               lease_until=rec.get("lease_until", prev.lease_until))
    elif rec["op"] == "reverted":
        current.pop(fid, None)
