"""An incident's original path, as its postmortem tells it: a timeline the scorer reads like any drill.

    scenarios/originals/<id>.yaml ──yaml──▶ OriginalPath ──path_timeline──▶ Timeline (events + probe)
    (the March 2023 outage is built in: MARCH_2023, original_timeline())

Each step is minutes since the first alert: a toolbox `action` (with args and result) or an
event `kind` (ack, note, escalate, alert.firing, ...), and what the postmortem says. The probe
is what the postmortem reports: `failed_share` of requests failing from the alert until
`restored_min`. Pure: the caller reads the file.

From the seed postmortem (17:00-19:30 GMT, 5 March 2023; drill second 0 = 17:00, the first alert):

    0 alert ─ 5 min network suspected ─ 15 network team paged ─ 30 network ruled out ─ 45 web overloaded
      ─ 75 capacity raised, no effect ─ 90 database identified ─ 120 database restarted ─ 150 restored
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lab.core.errors import first_error, yaml_mapping
from lab.core.scoring import Sample, Timeline
from lab.core.timeline import Event, Source

COMMS = {"ack", "note", "role", "update", "escalate", "resolve"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OriginalStep(_Model):
    """One moment of the original path."""

    at_min: float = Field(ge=0, description="minutes since the first alert")
    action: str | None = Field(None, description="a toolbox action the responders took (inspect-db, restart, ...)")
    kind: str | None = Field(None, description="an event kind: ack, note, role, update, escalate, resolve, alert.firing, ...")
    actor: str = "responders"
    args: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)
    said: str = Field(min_length=1, description="what the postmortem says about this moment")

    @model_validator(mode="after")
    def _one_of(self) -> OriginalStep:
        if (self.action is None) == (self.kind is None):
            raise ValueError("give either action or kind")
        return self

    def event(self, event_id: int, wall_start: float) -> Event:
        """This step as a timeline event (source: team for actions and words, else monitor or runner)."""
        if self.action is not None:
            kind, source = f"action.{self.action}", Source.TEAM
            data: dict[str, Any] = {"action": self.action, "args": dict(self.args), "result": dict(self.result), "ok": True}
        elif self.kind in COMMS:
            kind, source = str(self.kind), Source.TEAM
            data = {"action": self.kind, "args": dict(self.args)}
        else:
            kind = str(self.kind)
            source = Source.MONITOR if kind.startswith("alert.") else Source.RUNNER
            data = dict(self.args)
        return Event(id=event_id, wall=wall_start + self.at_min * 60, offset_s=self.at_min * 60.0, source=source,
                     kind=kind, actor=self.actor, data={**data, "postmortem": self.said})


class OriginalPath(_Model):
    """What really happened, minute by minute, and how much of the traffic failed meanwhile."""

    incident: str = Field(min_length=1, description="how reports name it, e.g. '5 March 2023'")
    name: str = Field(min_length=1, description="how a sentence names it, e.g. 'March 2023'")
    label: str = Field("original", min_length=1, description="short name on charts, e.g. 'original 2023'")
    start: datetime = Field(description="wall-clock time of the first alert (ISO 8601, with a zone)")
    source: str | None = None
    restored_min: float = Field(gt=0, description="minutes from the first alert until players were served again")
    failed_share: float = Field(1.0, gt=0, le=1, description="share of requests failing until then")
    steps: list[OriginalStep] = Field(min_length=1)

    def wall_start(self) -> float:
        return self.start.timestamp()


class OriginalInvalid(ValueError):
    """An original-path file failed validation; str() is the one-line message (without the file name)."""


def parse_original(text: str) -> OriginalPath:
    """Parse and validate an original path's YAML; OriginalInvalid naming the field otherwise."""
    try:
        data = yaml_mapping(text, "a mapping with incident, start, restored_min, steps")
    except ValueError as exc:
        raise OriginalInvalid(str(exc)) from None
    try:
        path = OriginalPath.model_validate(data)
    except ValidationError as exc:
        raise OriginalInvalid(first_error(exc, OriginalPath)) from None
    if path.start.tzinfo is None:
        raise OriginalInvalid(f"start: give a time zone, e.g. '{path.start.isoformat()}Z'")
    return path


def path_timeline(path: OriginalPath, sample_every_s: float = 60.0) -> Timeline:
    """The original path as events, and a probe that saw `failed_share` of requests fail until it was restored."""
    events = tuple(step.event(i, path.wall_start()) for i, step in enumerate(path.steps, start=1))
    restored = path.restored_min * 60.0
    total = 10 if float(10 * path.failed_share).is_integer() else 100  # 0.22 fails 22 of 100
    failed = round(total * path.failed_share)
    samples = []
    t = -sample_every_s
    while t <= restored + 5 * sample_every_s:
        samples.append(Sample(offset_s=t, total=total, ok=total - failed if 0 <= t < restored else total))
        t += sample_every_s
    return Timeline(events=events, samples=tuple(samples))


# --- the March 2023 outage (the seed postmortem), built in ---------------------------------------

_NET_OK = {"unreachable": [], "toxics": []}
MARCH_2023 = OriginalPath(
    incident="5 March 2023", name="March 2023", label="original 2023", start=datetime.fromisoformat("2023-03-05T17:00:00+00:00"),
    source="shared/seeds/000_8cddb06da2ad98c6.txt", restored_min=150, failed_share=1.0,
    steps=[
        OriginalStep(at_min=0, kind="alert.firing", actor="monitor", args={"alert": "SiteAvailabilityLow", "value": 0.0},
                     said="The monitoring system sent an alert to the engineering team."),
        OriginalStep(at_min=5, kind="ack", actor="engineering", said="Engineers started investigating."),
        OriginalStep(at_min=5, kind="note", actor="engineering",
                     args={"hypothesis": "network-failure", "text": "Assumed a network failure."},
                     said="They assumed it was due to network failure."),
        OriginalStep(at_min=15, kind="escalate", actor="engineering", args={"team": "network"},
                     said="The network team was notified and started investigating as well."),
        OriginalStep(at_min=30, action="check-network", actor="network", result=_NET_OK,
                     said="The network team ruled out network issues; the problem might be the web server."),
        OriginalStep(at_min=45, action="inspect-web", actor="engineering",
                     said="The engineering team investigated the web server: overloaded with requests."),
        OriginalStep(at_min=45, kind="note", actor="engineering",
                     args={"hypothesis": "web-overloaded", "text": "The web server is overloaded with requests."},
                     said="They concluded the web server was overloaded."),
        OriginalStep(at_min=75, action="scale-web", actor="engineering", args={"workers": 4},
                     result={"before": 2, "after": 4, "direction": "up"},
                     said="The team increased the server capacity, which did not resolve the issue."),
        OriginalStep(at_min=90, action="inspect-db", actor="engineering",
                     said="The team started investigating the database server."),
        OriginalStep(at_min=90, kind="note", actor="engineering",
                     args={"hypothesis": "db-overloaded", "text": "The database is the bottleneck."},
                     said="They realised the database was the bottleneck."),
        OriginalStep(at_min=120, action="restart", actor="engineering", args={"service": "db"}, result={"service": "db"},
                     said="The database server was restarted, which fixed the issue."),
        OriginalStep(at_min=150, kind="alert.resolved", actor="monitor", args={"alert": "SiteAvailabilityLow", "value": 1.0},
                     said="The website was restored to normal operation."),
        OriginalStep(at_min=150, kind="drill.ended", actor="lab", args={"outcome": "recovered"},
                     said="Outage over after 2 h 30 min."),
    ],
)
WALL_START = MARCH_2023.wall_start()
RESTORED_S = MARCH_2023.restored_min * 60.0


def original_timeline(sample_every_s: float = 60.0) -> Timeline:
    """The March 2023 path as events, and a probe that saw every request fail until 19:30."""
    return path_timeline(MARCH_2023, sample_every_s)
