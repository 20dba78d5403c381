"""Alert events and where they go: until the timeline exists, an append-only JSONL file.

One line per event, flushed and fsynced as it is written:
    {"t": 1700000000.123, "source": "monitor", "kind": "alert.firing", "alert": "SiteAvailabilityLow",
     "severity": "page", "signal": "availability", "op": "<", "threshold": 0.99, "for_s": 15.0,
     "value": 0.42, "data_t": 1700000000, "active_since": 1699999985, "summary": "..."}
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from lab.monitor.rules import Transition


@dataclass(frozen=True)
class AlertEvent:
    """An alert fired or resolved (source is always the monitor)."""

    t: float
    kind: str
    alert: str
    severity: str
    signal: str
    op: str
    threshold: float
    for_s: float
    value: float | None
    data_t: float
    active_since: float
    summary: str
    source: str = "monitor"

    @classmethod
    def of(cls, tr: Transition, now: float) -> AlertEvent:
        r = tr.rule
        return cls(t=now, kind=f"alert.{tr.kind}", alert=r.name, severity=r.severity, signal=r.signal, op=r.op,
                   threshold=r.threshold, for_s=r.for_s, value=tr.value, data_t=tr.t,
                   active_since=tr.active_since, summary=r.summary)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class EventSink(Protocol):
    """Somewhere alert events are recorded."""

    def emit(self, event: AlertEvent) -> None: ...


class JsonlSink:
    """Appends each event as one JSON line and fsyncs it (durable once emit returns)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def emit(self, event: AlertEvent) -> None:
        line = json.dumps({"source": event.source, **event.to_dict()}) + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())


class JsonlLog:
    """Appends plain records as JSON lines (the per-second SLI log; not fsynced per line)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")


def read_events(path: Path) -> list[dict[str, Any]]:
    """Every event in a JSONL file (an absent file has none)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    out, skipped = [], []
    for number, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:  # a torn last line (the monitor was killed mid-write), or not UTF-8
            skipped.append(number)
            continue
        if isinstance(record, dict):
            out.append(record)
        else:
            skipped.append(number)
    if skipped:
        logging.getLogger("lab.monitor").warning("warning: %s: skipped %d line(s) that are not events: line %s",
                                                 path, len(skipped), ", ".join(map(str, skipped[:5])))
    return out
