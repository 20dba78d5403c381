"""The facilitator's view: pick a scenario and a team, start, halt, release hints, inject an
ad-hoc fault, watch the score build up, and open the report at the end. A team session gets 403
on every route here, before anything is read or done."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for

from lab.console import panels
from lab.console.auth import actor, require
from lab.console.state import Conflict, state
from lab.core.timeline import Source
from lab.errors import LabError, UsageError
from lab.faults import FAULTS, engine
from lab.timeline import rundir
from lab.timeline.recorder import ActiveDrill, active_drill
from lab.timeline.store import TimelineStore

bp = Blueprint("facilitator", __name__, url_prefix="/facilitator")
TEAM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
RESPONDERS = {"": None, "autopilot": "autopilot", "wrong_turns": "wrong_turns"}


@bp.get("")
@require("facilitator")
def page() -> Any:
    st = state()
    view = st.view()
    scenario = card = None
    load_error = None
    if view.watch is not None:
        try:
            scenario = st.loaded(view.watch.run_dir)[0]
            card = st.live_score(view.watch) if view.watch.started else None
        except LabError as exc:
            load_error = str(exc)
    events = view.watch.events if view.watch else []
    report = view.watch.run_dir.name if view.phase == "ended" and view.watch and view.watch.outcome else None
    return render_template(
        "facilitator.html", view=view, scenario=scenario, card=card, load_error=load_error, events=events,
        catalog=st.catalog(), faults=FAULTS, released=view.watch.released_hints() if view.watch else set(),
        report=report, status=panels.status_html(st, view), chart=panels.chart_svg(st, view),
        stream_url=url_for("stream.events", run=view.watch.run_dir.name if view.watch else "",
                           after=events[-1].id if events else 0),
    )


@bp.get("/score")
@require("facilitator")
def score() -> Any:
    st = state()
    view = st.view()
    card = st.live_score(view.watch) if view.watch and view.watch.started else None
    return render_template("_score.html", card=card, view=view)


@bp.post("/start")
@require("facilitator")
def start() -> Any:
    form = request.form
    team = form.get("team", "").strip()
    if not TEAM_RE.match(team):
        raise UsageError("team: 1-32 lowercase letters, digits, '-' or '_' (it names the run)")
    try:
        speed = float(form.get("speed", "1") or "1")
    except ValueError:
        raise UsageError(f"speed: {form.get('speed')!r} is not a number; use 0.1 to 1000") from None
    if not 0.1 <= speed <= 1000:
        raise UsageError(f"speed: {speed:g} is out of range; use 0.1 to 1000")
    responder = form.get("responder", "")
    if responder not in RESPONDERS:
        raise UsageError(f"responder: unknown responder {responder!r}; valid: people, autopilot, wrong_turns")
    lobby = form.get("lobby", "") in ("1", "on", "yes", "true")
    st = state()
    st.start(form.get("scenario", ""), team, speed, RESPONDERS[responder], lobby=lobby)
    flash(f"{'opening the lobby of' if lobby else 'starting'} {form.get('scenario')} for team {team} at speed "
          f"{speed:g}" + ("; start the clock when the room is ready" if lobby else ""), "ok")
    return redirect(url_for("facilitator.page"), code=303)


@bp.post("/go")
@require("facilitator")
def go() -> Any:
    run_id = state().go(actor())
    flash(f"the clock runs: drill {run_id} started", "ok")
    return redirect(url_for("facilitator.page"), code=303)


@bp.post("/halt")
@require("facilitator")
def halt() -> Any:
    state().halt()
    flash("drill halted; every active fault was reverted", "ok")
    return redirect(url_for("facilitator.page"), code=303)


@bp.post("/halt-all")
@require("facilitator")
def halt_all() -> Any:
    """The emergency stop: every drill on every stack under the console's run root (`gameday halt --all`)."""
    from lab.runner.halt_all import halt_everything

    stops = halt_everything(state().root, who=f"{actor()} (console)")
    live = [s for s in stops if s.up]
    reverted = sum(len(s.reverted) for s in live)
    drills = sum(1 for s in live if s.drill)
    failed = [s.line() for s in live if s.error]
    flash(f"emergency stop: {drills} drill(s) signalled, {reverted} fault(s) reverted on {len(live)} stack(s)"
          + (f"; {'; '.join(failed)}" if failed else ""), "error" if failed else "ok")
    return redirect(url_for("facilitator.page"), code=303)


def _running() -> ActiveDrill:
    try:
        return active_drill(state().stack)
    except UsageError as exc:
        raise Conflict(str(exc)) from None


def _record(drill: ActiveDrill, kind: str, data: dict[str, Any]) -> int:
    event = TimelineStore(drill.run_dir / rundir.EVENTS).append(Source.FACILITATOR, kind, actor(), data,
                                                                offset_s=drill.offset())
    return event.id


@bp.post("/hint")
@require("facilitator")
def hint() -> Any:
    hint_id = request.form.get("hint", "")
    st = state()
    drill = _running()
    scenario = st.loaded(drill.run_dir)[0]
    hints = {h.id: h for h in scenario.hints}
    if hint_id not in hints:
        raise UsageError(f"hint: unknown hint '{hint_id}'; valid: {', '.join(hints) or 'this scenario has none'}")
    if hint_id in st.watch(drill.run_dir).refresh().released_hints():
        raise Conflict(f"hint '{hint_id}' was already released")
    h = hints[hint_id]
    event_id = _record(drill, "hint.released", {"id": h.id, "text": h.text, "cost": h.cost})
    flash(f"hint '{h.id}' released (event #{event_id})", "ok")
    return redirect(url_for("facilitator.page"), code=303)


@bp.post("/inject")
@require("facilitator")
def inject() -> Any:
    from lab.faults.cli import parse_params

    kind = request.form.get("kind", "")
    lines = [line.strip() for line in request.form.get("params", "").splitlines() if line.strip()]
    params = parse_params(tuple(lines))
    engine.check(kind, params, where="kind: ")
    drill = _running()
    fault_id = engine.inject(state().stack, kind, params, run_id=drill.run_id)  # reverted when the drill ends
    event_id = _record(drill, "fault.injected", {"fault_id": fault_id, "kind": kind, "params": params, "adhoc": True})
    flash(f"injected {kind} as '{fault_id}' (event #{event_id})", "ok")
    return redirect(url_for("facilitator.page"), code=303)
