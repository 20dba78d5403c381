"""The drill clock: drill seconds since start, compressed by --speed (2 = twice as fast)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class Clock:
    speed: float = 1.0
    started: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        """Drill seconds elapsed."""
        return (time.monotonic() - self.started) * self.speed

    def real(self, drill_seconds: float) -> float:
        """Real seconds that `drill_seconds` take at this speed."""
        return drill_seconds / self.speed
