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
         "drill.recovered", "drill.time_limit", "drill.halt", "drill.resolving", "drill.resolved",
         "drill.resolved_too_early", "drill.ended", "drill.aborted", "drill.halt_all", "escalation.answered")

# How each outcome of drill.ended reads in a sentence (reports, score card, console history).
OUTCOMES = {"recovered": "recovered", "resolved": "resolved", "resolved_too_early": "resolved too early",
            "time_limit": "time limit reached", "halted": "halted", "error": "ended by an error",
            "refused": "refused (the steady state did not hold)",
            "aborted": "aborted (the drill's process was lost; the watchdog reverted its faults)"}


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


def outcome_text(outcome: str | None) -> str:
    """An outcome in words: "resolved_too_early" is "resolved too early"; None is "unknown"."""
    if not outcome:
        return "unknown"
    return OUTCOMES.get(outcome, outcome.replace("_", " "))


def outcome_of(timeline: Timeline) -> str | None:
    """The outcome the drill ended with: its drill.ended's, else "aborted" when the watchdog recorded
    drill.aborted (the runner was lost); None: no end recorded, the run is live or was cut off."""
    ended = next((str(e.data.get("outcome")) for e in reversed(timeline.events) if e.kind == "drill.ended"), None)
    if ended is None and any(e.kind == "drill.aborted" for e in timeline.events):
        return "aborted"
    return ended


def _one_line(value: object, limit: int = 400) -> str:
    text = " ".join(str(value if value is not None else "").split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _brief(value: object) -> str:
    """Evidence in a few words: a dict as k=v, a list item by item."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={_brief(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(_brief(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _share(value: object) -> str:
    return f"{value:.0%}" if isinstance(value, (int, float)) and not isinstance(value, bool) else "unknown"


def _causes(causes: object) -> str:
    items = causes if isinstance(causes, list) else []
    return ", ".join(f"{c.get('step')} ({c.get('kind')})" if isinstance(c, dict) else str(c) for c in items)


def describe_end(event: Event) -> str | None:
    """The drill-end events in words (resolving, resolved, resolved too early, ended); None for others."""
    d = event.data
    if event.kind == "drill.resolving":
        return (f"{d.get('by') or 'The team'} declared the incident resolved; the lab watches for a relapse for "
                f"{duration(_number(d.get('relapse_window_s')))} (until {clock(_number(d.get('until_s')))})")
    if event.kind == "drill.resolved":
        evidence = {k: v for k, v in d.items() if k != "availability"}
        return ("Resolved: no cause left and no relapse within the window (availability "
                f"{_share(d.get('availability'))})" + (f"; evidence: {_one_line(_brief(evidence), 300)}" if evidence else ""))
    if event.kind == "drill.resolved_too_early":
        parts = [f"Resolved too early: {_one_line(d.get('reason') or 'the incident was not over', 300)}"]
        if _causes(d.get("causes_present")):
            parts.append(f"causes still present: {_causes(d.get('causes_present'))}")
        if d.get("slo_broken"):
            low = d.get("availability_min")
            parts.append("the SLO broke again" + (f" (availability fell to {_share(low)})" if low is not None else ""))
        return "; ".join(parts)
    if event.kind == "drill.ended":
        return f"Drill ended ({outcome_text(str(d.get('outcome') or '') or None)})"
    if event.kind == "drill.aborted":
        faults = ", ".join(str(f) for f in d.get("faults") or []) or "none"
        return (f"Drill aborted: {d.get('reason') or 'runner lost'}; the watchdog reverted its faults ({faults}); "
                "the timeline ends here")
    return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def escalation_answer(event: Event) -> str:
    """Who answered a page, after how long, and what they said."""
    d = event.data
    team = d.get("team") or event.actor
    delay, asked = _number(d.get("delay_s")), _number(d.get("asked_at_s"))
    when = f"{duration(delay)} after the page" if delay is not None else "after the page"
    return (f"The {team} team answered{f' the page of {clock(asked)}' if asked is not None else ''}, {when}: "
            f"\"{_one_line(d.get('text') or '(no answer text)')}\"")


def ending(timeline: Timeline) -> str | None:
    """How the incident was declared over and what the lab found then, in one paragraph (None: never declared)."""
    resolving = next((e for e in reversed(timeline.events) if e.kind == "drill.resolving"), None)
    verdict = next((e for e in reversed(timeline.events) if e.kind in ("drill.resolved", "drill.resolved_too_early")), None)
    if resolving is None and verdict is None:
        return None
    out = []
    if resolving is not None:
        out.append(f"At {clock(resolving.offset_s)}, {describe_end(resolving)}.")
    if verdict is not None:
        out.append(f"At {clock(verdict.offset_s)}: {describe_end(verdict)}.")
    else:
        out.append("The lab never gave its verdict (the drill ended first).")
    return " ".join(out)


def describe(event: Event) -> str:
    """One line for the timeline: what happened, in words."""
    d, args = event.data, arguments(event)
    end = describe_end(event)
    if end is not None:
        return end
    if event.kind == "escalation.answered":
        return escalation_answer(event)
    if event.kind == "fault.injected":
        return f"Fault injected by the lab: {d.get('kind')} ({d.get('step')}); the team is not told"
    if event.kind == "fault.reverted":
        who = f"the watchdog ({d.get('reason')})" if d.get("by") == "watchdog" else "the lab"
        return f"Fault reverted by {who}: {d.get('kind') or d.get('step') or d.get('fault_id')}"
    if event.kind in ("alert.firing", "alert.resolved"):
        return f"Alert {d.get('alert')} {'fired' if event.kind == 'alert.firing' else 'resolved'} (value {d.get('value')})"
    if event.kind == "hint.released":
        return f"Hint released (cost {d.get('cost')}): {d.get('text')}"
    if event.kind == "drill.started":
        return f"Drill started (team {d.get('team')}, responder {d.get('responder') or 'people'}, speed {d.get('speed')}x)"
    if event.kind == "drill.halt_all":
        return f"Emergency stop of every drill (`gameday halt --all`), pressed by {d.get('pressed_by') or event.actor}"
    if event.kind.startswith("drill."):
        return {"drill.recovered": "The lab saw the SLO hold again: recovered",
                "drill.time_limit": "Time limit reached", "drill.halt": "Drill halted by the facilitator"}.get(event.kind, event.kind)
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
        summary = args.get("summary")
        return "Incident declared resolved" + (f": {summary}" if summary else "")
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
