"""What both reports say: the outage in numbers, the timeline worth reading, the path beside the original.

Pure over a scored run: no files here, so the Markdown and the HTML report tell the same story.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lab.core.original import OriginalPath, path_timeline
from lab.core.runbook import Runbook, arguments
from lab.core.scenario import Scenario
from lab.core.scoring import ScoreCard, Timeline, score
from lab.core.timeline import Event, Source

SHOWN = ("fault.injected", "fault.reverted", "alert.firing", "alert.resolved", "hint.released", "drill.started",
         "drill.recovered", "drill.time_limit", "drill.halt", "drill.ended")


@dataclass(frozen=True)
class Impact:
    """The outage as the probe saw it."""

    start_s: float | None
    end_s: float | None
    failed_share: float  # of the probe's requests between start and end
    peak_share: float
    requests: int


@dataclass(frozen=True)
class Row:
    """One milestone of the comparison: drill seconds in this run and in the original (None: never)."""

    milestone: str
    drill_s: float | None
    original_s: float | None


def clock(seconds: float | None) -> str:
    """Drill seconds as T+h:mm:ss (or T+mm:ss)."""
    if seconds is None:
        return "never"
    sign = "-" if seconds < 0 else "+"
    s = int(round(abs(seconds)))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"T{sign}{h}:{m:02d}:{sec:02d}" if h else f"T{sign}{m:02d}:{sec:02d}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 60} min {s % 60:02d} s" if s >= 60 else f"{s} s"


def impact(card: ScoreCard, timeline: Timeline) -> Impact:
    """Failed share of the probe's requests while players were affected, and its peak."""
    start, end = card.phases.impact_start_s, card.phases.impact_end_s
    inside = [s for s in timeline.samples if start is not None and start <= s.offset_s < (end if end is not None else float("inf"))]
    total = sum(s.total for s in inside)
    failed = sum(s.total - s.ok for s in inside)
    peak = max((s.failed_share for s in inside), default=0.0)
    return Impact(start, end, failed / total if total else 0.0, peak, total)


def describe(event: Event) -> str:
    """One line for the timeline: what happened, in words."""
    d, args = event.data, arguments(event)
    if event.kind == "fault.injected":
        return f"Fault injected by the lab: {d.get('kind')} ({d.get('step')}); the team is not told"
    if event.kind == "fault.reverted":
        return f"Fault reverted by the lab: {d.get('kind') or d.get('step') or d.get('fault_id')}"
    if event.kind in ("alert.firing", "alert.resolved"):
        return f"Alert {d.get('alert')} {'fired' if event.kind == 'alert.firing' else 'resolved'} (value {d.get('value')})"
    if event.kind == "hint.released":
        return f"Hint released (cost {d.get('cost')}): {d.get('text')}"
    if event.kind == "drill.started":
        return f"Drill started (team {d.get('team')}, responder {d.get('responder') or 'people'}, speed {d.get('speed')}x)"
    if event.kind.startswith("drill."):
        return {"drill.recovered": "The lab saw the SLO hold again: recovered",
                "drill.time_limit": "Time limit reached", "drill.halt": "Drill halted by the facilitator",
                "drill.ended": f"Drill ended ({d.get('outcome')})"}.get(event.kind, event.kind)
    said = d.get("postmortem")
    if said:
        return str(said)
    if event.kind == "ack":
        return f"{event.actor} acknowledged the alert"
    if event.kind == "role":
        return f"{args.get('name')} is {args.get('role')}"
    if event.kind == "update":
        return f"{str(args.get('audience', '')).capitalize()} update: {args.get('text')}"
    if event.kind == "note":
        tag = f"[hypothesis: {args['hypothesis']}] " if args.get("hypothesis") else ""
        return f"Note: {tag}{args.get('text')}"
    if event.kind == "escalate":
        return f"Escalated to the {args.get('team')} team"
    if event.kind == "resolve":
        return "Incident declared resolved"
    if event.kind.startswith("action."):
        name = event.kind[len("action."):]
        shown = ", ".join(f"{k}={v}" for k, v in args.items())
        result: dict[str, Any] = d["result"] if isinstance(d.get("result"), dict) else {}
        brief = ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, (list, dict)))[:120]
        return f"Action {name}{f' ({shown})' if shown else ''}{': ' + brief if brief else ''}" + ("" if d.get("ok", True) else " - failed")
    if event.kind == "shell.command":
        return f"Ran: {d.get('command')}"
    if event.source == Source.OBSERVER:
        return f"Observed {event.kind}: " + ", ".join(f"{k}={v}" for k, v in d.items())[:120]
    return event.kind


def worth_showing(event: Event) -> bool:
    return event.kind in SHOWN or event.source in (Source.TEAM, Source.OBSERVER, Source.FACILITATOR)


LIMIT = 400  # timeline lines in a report; the rest stays in events.jsonl


def shown(timeline: Timeline, limit: int = LIMIT) -> tuple[list[Event], int]:
    """The events a report lists (at most `limit`), and how many more there were."""
    events = [e for e in timeline.events if worth_showing(e)]
    return events[:limit], max(0, len(events) - limit)


def original_card(runbook: Runbook, scenario: Scenario, original: OriginalPath) -> ScoreCard:
    """The original incident's path (lab.catalog finds the scenario's), scored by the same engine."""
    return score(path_timeline(original), runbook, scenario)


def comparison(card: ScoreCard, original: ScoreCard) -> list[Row]:
    """Milestones since the first alert, this drill beside the original."""

    def since(phases: object, attr: str) -> float | None:
        value, origin = getattr(phases, attr), getattr(phases, "origin_s")
        return None if value is None or origin is None else value - origin

    p, o = card.phases, original.phases
    return [
        Row("acknowledged", since(p, "ack_s"), since(o, "ack_s")),
        Row("correct diagnosis (with evidence)", since(p, "diagnosis_s"), since(o, "diagnosis_s")),
        Row("players no longer affected", since(p, "impact_end_s"), since(o, "impact_end_s")),
    ]


def todos(timeline: Timeline) -> list[str]:
    """The team's `TODO:` notes, as follow-ups."""
    out = []
    for e in timeline.events:
        text = str(arguments(e).get("text") or "")
        if e.source == Source.TEAM and e.kind == "note" and "TODO:" in text:
            out.append(text[text.index("TODO:") + 5:].strip())
    return out


def mitigations(card: ScoreCard, runbook: Runbook, timeline: Timeline) -> list[Event]:
    """The events that removed the cause (the runbook's mitigation steps)."""
    ids = {s.id for s in runbook.steps if s.mitigation}
    matched = {eid for sid, eid in card.steps if sid in ids and eid is not None}
    return [e for e in timeline.events if e.id in matched]
