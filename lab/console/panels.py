"""What the status panel, the chart and the timeline rows show, shared by both views and the
event stream (so a pushed update renders exactly like the page)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import render_template

from lab.console import chart
from lab.console.state import ConsoleState, DrillView
from lab.core.timeline import Event
from lab.errors import LabError


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


def slo_of(state: ConsoleState, view: DrillView) -> float | None:
    if view.watch is None:
        return None
    try:
        return state.loaded(view.watch.run_dir)[0].success.availability_min
    except Exception:  # a run copy that no longer validates: draw without the SLO line
        return None


def status_html(state: ConsoleState, view: DrillView) -> str:
    tick = view.watch.last_tick if view.watch else None
    return render_template("_status.html", view=view, tick=tick, services=services(state),
                           slo=slo_of(state, view), drill_s=view.drill_s())


def chart_svg(state: ConsoleState, view: DrillView) -> str:
    points = view.watch.points if view.watch else []
    return chart.svg(points, slo_of(state, view))


def event_html(event: Event) -> str:
    return render_template("_event.html", e=event)


def summary(event: Event) -> str:
    """One line for a timeline row."""
    d = event.data
    args = d.get("args") if isinstance(d.get("args"), dict) else None
    if event.kind.startswith("action."):
        shown = ", ".join(f"{k}={v}" for k, v in (args or {}).items())
        outcome = "ok" if d.get("ok") else f"failed: {d.get('error', '')}"
        return f"{d.get('action')}({shown}) {outcome}"
    if event.kind.startswith("alert."):
        return f"{d.get('alert')}: {d.get('summary', '')}"
    said = args if args is not None else d  # the words of an incident keep what was said in args
    parts = []
    if said.get("role"):
        parts.append(f"{said['role']}: {said.get('name', '')}")
    if said.get("audience"):
        parts.append(f"({said['audience']})")
    for key in ("text", "team", "outcome", "step", "scenario"):
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
    return {"clock": clock, "percent": percent, "summary": summary}
