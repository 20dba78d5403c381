"""Timeline events: what happened during a drill, who or what did it, and when.

An event's source is set by the lab (runner, monitor, team, observer, facilitator), never taken
from what a client claims. Times come in as data: wall time (UTC, seconds since the epoch) and
seconds since the drill started (monotonic).
"""

from __future__ import annotations

import json
from enum import Enum
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


class Source(str, Enum):
    RUNNER = "runner"
    MONITOR = "monitor"
    TEAM = "team"
    OBSERVER = "observer"
    FACILITATOR = "facilitator"


@dataclass(frozen=True)
class Event:
    """One timeline entry."""

    id: int
    wall: float
    offset_s: float
    source: Source
    kind: str
    actor: str
    data: dict[str, Any] = field(default_factory=dict)
    v: int = SCHEMA_VERSION

    def to_json(self) -> str:
        record = {"id": self.id, "wall": self.wall, "offset_s": self.offset_s, "source": self.source.value,
                  "kind": self.kind, "actor": self.actor, "data": self.data, "v": self.v}
        return json.dumps(record, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, line: str | bytes) -> Event:
        raw = json.loads(line)
        return cls(raw["id"], raw["wall"], raw["offset_s"], Source(raw["source"]), raw["kind"], raw["actor"],
                   raw.get("data") or {}, raw.get("v", SCHEMA_VERSION))
