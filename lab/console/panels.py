"""What the status panel, the chart and the timeline rows show, shared by both views and the
event stream (so a pushed update renders exactly like the page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template

import json

from lab.console import chart, results
from lab.console.auth import role
from lab.console.state import ConsoleState, DrillView
from lab.core.scenario import DASHBOARDS, DEFAULT_DASHBOARDS
from lab.core.timeline import Event
from lab.errors import LabError
from lab.report.facts import describe_end


@dataclass(frozen=True)
class ServiceRow:
    name: str
    pid: int | None
    state: str  # "running", "paused", "stopped"


def services(state: ConsoleState) -> list[ServiceRow] | None:
    """The stack's services as it says they are (processes or containers: no request to Arcade,
    which may be down); None when the stack is not up."""
    try:
        st = state.stack.state()
    except LabError:
        return None
    return [ServiceRow(name, svc.pid, "paused" if svc.paused else "running" if svc.pid is not None else "stopped")
            for name, svc in st.services.items()]


def dashboards(state: ConsoleState, view: DrillView) -> frozenset[str]:
    """What this session may see: everything for the facilitator; for the team, the dashboards its
    scenario grants (what the original site's monitoring showed), the defaults when none is loaded."""
    if role() == "facilitator":
        return frozenset(DASHBOARDS)
    if view.watch is not None:
        try:
            return frozenset(state.loaded(view.watch.run_dir)[0].dashboards)
        except Exception:  # a run copy that no longer validates: the defaults
            pass
    return frozenset(DEFAULT_DASHBOARDS)


def slo_of(state: ConsoleState, view: DrillView) -> float | None:
    if view.watch is None:
        return None
    try:
        return state.loaded(view.watch.run_dir)[0].success.availability_min
    except Exception:  # a run copy that no longer validates: draw without the SLO line
        return None


def status_html(state: ConsoleState, view: DrillView) -> str:
    tick = view.watch.last_tick if view.watch else None
    shown = dashboards(state, view)
    return render_template("_status.html", view=view, tick=tick, shown=shown,
                           services=services(state) if "services" in shown else None,
                           slo=slo_of(state, view), drill_s=view.drill_s())


def chart_svg(state: ConsoleState, view: DrillView) -> str:
    points = view.watch.points if view.watch else []
    shown = dashboards(state, view)
    if not {"availability", "latency"} <= shown:  # draw only the lines the scenario grants
        points = [chart.ChartPoint(p.t, p.availability if "availability" in shown else None,
                                   p.p95_ms if "latency" in shown else None) for p in points]
    return chart.svg(points, slo_of(state, view) if "availability" in shown else None)


def event_html(event: Event) -> str:
    return render_template("_event.html", e=event)


def finding_html(event: Event, current: int | None = None) -> str:
    """One action's result (or a typed shell command) as every member of the team sees it."""
    return render_template("_finding.html", e=event, current=current)


def raw_json(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, default=str)


def summary(event: Event) -> str:
    """One line for a timeline row."""
    d = event.data
    args = d.get("args") if isinstance(d.get("args"), dict) else None
    end = describe_end(event)
    if end is not None:
        return end
    if d.get("via") == "shell" or event.kind in results.FINDING_KINDS:
        return results.headline(event)  # the command as typed, the answer, the hint
    if event.kind.startswith("action."):
        return f"{d.get('action')}: {results.headline(event)}"
    if event.kind.startswith("alert."):
        return f"{d.get('alert')}: {d.get('summary', '')}"
    said = args if args is not None else d  # the words of an incident keep what was said in args
    parts = []
    if said.get("role"):
        parts.append(f"{said['role']}: {said.get('name', '')}")
    if said.get("audience"):
        parts.append(f"({said['audience']})")
    for key in ("text", "summary", "team", "outcome", "step", "scenario"):
        if said.get(key):
            parts.append(str(said[key]))
            break
    if said.get("hypothesis"):
        parts.append(f"[hypothesis: {said['hypothesis']}]")
    if parts:
        return " ".join(parts)
    return ", ".join(f"{k}={round(v, 3) if isinstance(v, float) else v}" for k, v in d.items()
                     if not isinstance(v, (dict, list)) and k not in ("ok", "duration_s", "action"))[:200]


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    s = int(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    return f"{sign}{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{sign}{s // 60}:{s % 60:02d}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f} %"


def template_helpers() -> dict[str, Any]:
    return {"clock": clock, "percent": percent, "summary": summary, "headline": results.headline,
            "result_tables": results.tables, "result_label": results.label, "result_cell": results.cell,
            "raw_json": raw_json, "is_finding": results.is_finding}
