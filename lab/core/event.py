"""A game day as an event: one scenario, several teams, one facilitator (pure: the plan and its checks,
each team's seed, whether the machine can hold the teams, and the scoreboard's order).

    event file (or flags) ──parse_event──▶ EventPlan ──team_seeds──▶ one seed per team (its variant)
                                               └──capacity──▶ how many team stacks fit; a refusal names the way past
    live scores ──rank──▶ the scoreboard's order (score, then time to recover, then name)

    event: spring-gameday          # the event's id (names its stacks <event>-<team> and its directory)
    scenario: march-2023-db-overload
    stack: local                   # the kind of every team's stack: local or compose
    teams: [red, blue, {name: green, responder: autopilot}]   # 2-30 teams; people respond unless told
    start: together                # or staggered, stagger_s apart
    hints: true                    # false: the teams get no hints at all
    time_limit_s: 1800             # default: the scenario's
    speed: 1
    seed: 42                       # the event's seed: each team's own seed is derived from it
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lab.core.errors import did_you_mean, first_error, yaml_mapping
from lab.core.variants import MAX_SEED, seeds_for

NAME = r"^[a-z0-9][a-z0-9-]{0,15}$"  # short: a team's stack is named <event>-<team>
MIN_TEAMS, MAX_TEAMS = 2, 30
RESPONDERS = ("people", "autopilot", "wrong_turns")


class EventInvalid(ValueError):
    """An event plan failed validation; str() is the one-line message (without the file name)."""


class TeamPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=NAME)
    responder: Literal["people", "autopilot", "wrong_turns"] = "people"


class EventPlan(BaseModel):
    """What the facilitator decided: the scenario, the teams, how they start, and the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(pattern=NAME)
    scenario: str = Field(min_length=1)
    stack: Literal["local", "compose"] = "local"
    teams: list[TeamPlan] = Field(min_length=MIN_TEAMS, max_length=MAX_TEAMS)
    start: Literal["together", "staggered"] = "together"
    stagger_s: float = Field(60.0, ge=0, le=3600)
    hints: bool = True
    time_limit_s: float | None = Field(None, gt=0, le=24 * 3600)
    speed: float = Field(1.0, ge=0.1, le=1000)
    seed: int = Field(1, ge=0, le=MAX_SEED)

    @field_validator("teams", mode="before")
    @classmethod
    def _names_alone(cls, teams: Any) -> Any:
        """A team may be written as its name alone."""
        if isinstance(teams, list):
            return [{"name": t} if isinstance(t, str) else t for t in teams]
        return teams

    @field_validator("teams")
    @classmethod
    def _unique(cls, teams: list[TeamPlan]) -> list[TeamPlan]:
        seen: set[str] = set()
        for team in teams:
            if team.name in seen:
                raise ValueError(f"duplicate team '{team.name}'")
            seen.add(team.name)
        return teams

    def stack_name(self, team: str) -> str:
        return f"{self.event}-{team}"

    def start_delay(self, index: int) -> float:
        """Real seconds after the first team's start that team `index` starts."""
        return index * self.stagger_s if self.start == "staggered" else 0.0


def parse_event(data: dict[str, Any] | str, scenarios: Collection[str]) -> EventPlan:
    """An event plan from a parsed mapping or YAML text, checked against the catalog's scenario ids
    (a path to a scenario file passes as it is); EventInvalid names the field and what is valid."""
    if isinstance(data, str):
        try:
            data = yaml_mapping(data, "a mapping with event, scenario, teams, ...")
        except ValueError as exc:
            raise EventInvalid(str(exc)) from None
    teams = data.get("teams")
    if isinstance(teams, list) and not MIN_TEAMS <= len(teams) <= MAX_TEAMS:
        raise EventInvalid(f"teams: {len(teams)} team(s); an event has {MIN_TEAMS} to {MAX_TEAMS} teams")
    try:
        plan = EventPlan.model_validate(data)
    except ValidationError as exc:
        raise EventInvalid(first_error(exc, EventPlan)) from None
    is_file = plan.scenario.endswith((".yaml", ".yml")) or "/" in plan.scenario
    if not is_file and plan.scenario not in scenarios:
        raise EventInvalid(f"scenario: unknown scenario '{plan.scenario}'{did_you_mean(plan.scenario, scenarios)}")
    return plan


def team_seeds(plan: EventPlan) -> dict[str, int]:
    """Each team's own seed, derived from the event's (the same event seed, the same team seeds)."""
    return dict(zip((t.name for t in plan.teams), seeds_for(plan.seed, len(plan.teams))))


@dataclass(frozen=True)
class Capacity:
    """How many team stacks fit: the machine's cores and free memory against one stack's measured cost."""

    cores: float
    memory_mb: float
    stack_cpu: float  # cores one team's stack uses while its drill runs
    stack_memory_mb: float

    def fits(self) -> int:
        return max(0, int(min(self.cores / self.stack_cpu, self.memory_mb / self.stack_memory_mb)))

    def refusal(self, teams: int, kind: str) -> str | None:
        """None if `teams` stacks fit, else the one-line reason (and the way past one machine)."""
        fits = self.fits()
        if teams <= fits:
            return None
        by = "CPU" if self.cores / self.stack_cpu <= self.memory_mb / self.stack_memory_mb else "memory"
        return (f"teams: {teams} {kind} stacks do not fit on this machine ({self.cores:g} cores, "
                f"{self.memory_mb:,.0f} MB free; one team's stack takes {self.stack_cpu:g} cores and "
                f"{self.stack_memory_mb:,.0f} MB during a drill): at most {fits}, limited by {by}; run fewer teams "
                f"or put the teams' stacks on a cluster (the Swarm kind of stack, once it lands)")


@dataclass(frozen=True)
class Standing:
    """One team on the scoreboard."""

    team: str
    score: float | None  # None: not scored yet
    recovered_s: float | None  # drill seconds to recover (None: not yet)
    phase: str


def rank(rows: Sequence[Standing]) -> list[Standing]:
    """Highest score first; ties by the faster recovery, then by name; unscored teams last."""
    return sorted(rows, key=lambda r: (r.score is None, -(r.score or 0.0),
                                       math.inf if r.recovered_s is None else r.recovered_s, r.team))


def slug(text: str) -> str:
    """A name usable as an event id, from free text or a scenario id: at most 16 characters, cut
    where a word ends ("flagsmith-2023-migration-lock" -> "flagsmith-2023")."""
    words = [w for w in re.sub(r"[^a-z0-9-]+", "-", text.lower()).split("-") if w]
    out = ""
    for word in words:
        longer = f"{out}-{word}" if out else word
        if len(longer) > 16:
            break
        out = longer
    return out or (words[0][:16] if words else "event")


def phase_of(phases: Any, outcome: str | None = None) -> str:
    """Where a team is, from its card's milestones (lab.core.scoring.Phases): detecting (no
    acknowledgement yet), diagnosing (acknowledged), mitigating (diagnosed), recovered (the players'
    impact ended); an ended drill says how it ended."""
    if outcome:
        return outcome.replace("_", " ")
    if phases.impact_end_s is not None:
        return "recovered"
    if phases.diagnosis_s is not None:
        return "mitigating"
    if phases.ack_s is not None:
        return "diagnosing"
    return "detecting"
