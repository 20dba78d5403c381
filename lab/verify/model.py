"""What verify reports: named, timed checks per scenario. Pure data.

    ScenarioReport(scenario, checks=[Check(name, status, seconds, expected, measured, figures), ...])

A check that fails says what was expected and what was measured; its figures are the numbers
behind that sentence (they become JUnit properties).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

Figure = float | int | str | None

# The checks in the order they run; `symptom[<fault id>]` is repeated for every fault step, and a
# scenario has `slo_breach` (the faults break the SLO) or `slo_holds` (`slo_breaks: false`).
ORDER = ("validate", "stack_up", "steady_state", "schedule", "symptom", "slo_breach", "slo_holds", "recovery",
         "autopilot_score", "wrong_turns", "teardown")


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"     # the scenario does not do what it says
    ERROR = "error"       # the check could not be made (the lab itself failed)
    SKIPPED = "skipped"   # not applicable, or it depends on a check that did not pass


@dataclass(frozen=True)
class Check:
    """One named, timed check of one scenario."""

    name: str
    status: Status
    seconds: float = 0.0
    expected: str = ""
    measured: str = ""
    figures: tuple[tuple[str, Figure], ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def bad(self) -> bool:
        return self.status in (Status.FAILED, Status.ERROR)

    def timed(self, seconds: float) -> Check:
        return replace(self, seconds=round(seconds, 2))

    def message(self) -> str:
        """One line: which check, what was expected, what was measured."""
        if self.status is Status.SKIPPED:
            return f"{self.name}: skipped: {self.measured}"
        return f"{self.name}: expected {self.expected}; measured {self.measured}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status.value, "seconds": self.seconds, "expected": self.expected,
                "measured": self.measured, "figures": [list(pair) for pair in self.figures]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Check:
        return cls(raw["name"], Status(raw["status"]), float(raw["seconds"]), raw["expected"], raw["measured"],
                   tuple((str(k), v) for k, v in raw["figures"]))


def skipped(name: str, why: str) -> Check:
    return Check(name, Status.SKIPPED, measured=why)


def error(name: str, what: str, expected: str = "the check to run") -> Check:
    return Check(name, Status.ERROR, expected=expected, measured=what)


@dataclass
class ScenarioReport:
    """Everything verify found out about one scenario."""

    scenario_id: str
    path: str
    stack: str
    speed: float
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0
    started_wall: float = 0.0
    kept: str | None = None  # the run directory kept because something failed
    properties: dict[str, Figure] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and not any(c.bad for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.FAILED]

    @property
    def errors(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.ERROR]

    @property
    def skips(self) -> list[Check]:
        return [c for c in self.checks if c.status is Status.SKIPPED]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {"scenario_id": self.scenario_id, "path": self.path, "stack": self.stack, "speed": self.speed,
                "checks": [c.to_dict() for c in self.checks], "seconds": self.seconds,
                "started_wall": self.started_wall, "kept": self.kept, "properties": dict(self.properties)}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ScenarioReport:
        return cls(raw["scenario_id"], raw["path"], raw["stack"], float(raw["speed"]),
                   [Check.from_dict(c) for c in raw["checks"]], float(raw["seconds"]), float(raw["started_wall"]),
                   raw["kept"], dict(raw["properties"]))


def exit_code(reports: list[ScenarioReport]) -> int:
    """0 when every scenario passed, 1 when any check failed or could not be made."""
    return 0 if reports and all(r.passed for r in reports) else 1
