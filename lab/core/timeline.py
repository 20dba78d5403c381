"""Timeline events: what happened during a drill, who or what did it, and when.

An event's source is set by the lab (runner, monitor, team, observer, facilitator), never taken
from what a client claims. Times come in as data: wall time (UTC, seconds since the epoch) and
seconds since the drill started (monotonic).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import Enum
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
        record = asdict(self)
        record["source"] = self.source.value
        return json.dumps(record, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, line: str) -> Event:
        raw = json.loads(line)
        raw["source"] = Source(raw["source"])
        return cls(**raw)
