"""An incident's original path, as its postmortem tells it: a timeline the scorer reads like any drill.

    scenarios/originals/<id>.yaml ──yaml──▶ OriginalPath ──path_timeline──▶ Timeline (events + probe)

Each step is minutes since the first alert: a toolbox `action` (with args and result) or an
event `kind` (ack, note, escalate, alert.firing, ...), and what the postmortem says. The probe
is what the postmortem reports: `failed_share` of requests failing from the alert until
`restored_min`. Pure: the caller reads the file (lab.catalog finds a scenario's; the seed
postmortem's March 2023 outage is `scenarios/originals/march-2023-db-overload.yaml`).
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

