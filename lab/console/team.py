"""The team's view: alerts, services, the SLO chart, the timeline as it grows, and every toolbox
action and incident word as a form. Each post goes through `lab.actions.perform` and is recorded
on the drill's timeline with source `team` and the logged-in member as actor."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from lab.actions import ACTIONS
from lab.actions.base import ActionContext
from lab.actions.perform import check, perform
from lab.console import forms, panels, results
from lab.console.auth import actor, require, role
from lab.console.state import Conflict, state
from lab.console.watch import visible_to_team
from lab.errors import UsageError
from lab.timeline.recorder import active_drill, record_team

bp = Blueprint("team", __name__)


@bp.get("/team")
@require("team", "facilitator")
def page() -> Any:
    st = state()
    view = st.view()
    scenario = None
    hypotheses: list[str] = []  # the runbook's vocabulary, right and wrong causes in alphabetical order (no spoiler)
    if view.watch is not None:
        try:
            scenario, runbook = st.loaded(view.watch.run_dir)  # validated once per run
            hypotheses = sorted(h.id for h in runbook.vocabulary())
        except Exception:
            scenario = None
    events = [e for e in (view.watch.events if view.watch else []) if visible_to_team(e)]
    findings = [e for e in reversed(events) if results.is_finding(e)]  # newest first, everyone's
    return render_template(
        "team.html", view=view, scenario=scenario, events=events, findings=findings, hypotheses=hypotheses,
        current=request.args.get("event", type=int), dashboards=panels.dashboards(st, view),
        status=panels.status_html(st, view), chart=panels.chart_svg(st, view), groups=forms.groups(),
        fields=forms.fields, can_act=role() == "team",
        stream_url=url_for("stream.events", run=view.watch.run_dir.name if view.watch else "",
                           after=events[-1].id if events else 0),
    )


@bp.get("/team/findings")
@require("team", "facilitator")
def findings() -> Any:
    """Every result the team has so far, newest first, as the page's Findings section renders them;
    `--json`'s counterpart for scripts: `?format=json` gives the events themselves."""
    st = state()
    view = st.view()
    events = [e for e in (view.watch.events if view.watch else []) if visible_to_team(e) and results.is_finding(e)]
    if request.args.get("format") == "json":
        return {"run": view.watch.run_dir.name if view.watch else None,
                "findings": [{"id": e.id, "offset_s": e.offset_s, "kind": e.kind, "actor": e.actor,
                              "headline": results.headline(e), "data": e.data} for e in reversed(events)]}
    return "".join(panels.finding_html(e) for e in reversed(events))


@bp.post("/team/act")
@require("team")
def act() -> Any:
    """Run one action for the logged-in member. Bad arguments: the team page again (400) with the
    error by that form and what was typed still in it, nothing run. A destructive action first
    shows what it will do, with Confirm (posts again with confirm=yes) and Back (the form, filled)."""
    name = request.form.get("action", "")
    action = ACTIONS.get(name)
    if action is None:
        check(name, {})  # raises UsageError naming the unknown action
        raise UsageError(f"action: unknown action '{name}'")
    typed = forms.typed(action, request.form)
    if request.form.get("back"):
        return _toolbox_again(name, typed, None, 200)
    try:
        args = forms.validate(action, request.form)  # bad arguments: 400, nothing runs, nothing is recorded
    except UsageError as exc:
        return _toolbox_again(name, typed, str(exc), 400)
    st = state()
    try:
        drill = active_drill(st.stack)
    except UsageError as exc:
        raise Conflict(str(exc)) from None
    if action.destructive and request.form.get("confirm") != "yes":
        return render_template("team_confirm.html", action=action, specs=forms.fields(action), values=typed)
    who = actor()
    try:
        done = perform(name, args, ActionContext(st.stack, who, drill.speed))
    except UsageError as exc:  # refused by the stack before anything changed (an unknown setting)
        return _toolbox_again(name, typed, str(exc), 400)
    event = record_team(drill, done.kind, who, done.data)
    if done.ok:
        flash(f"{name} by {who} at t+{panels.clock(event.offset_s)} (event #{event.id})", "ok")
    else:
        flash(f"{name} failed: {done.data.get('error')} (event #{event.id})", "error")
    anchor = f"finding-{event.id}" if results.is_finding(event) else "timeline"
    return redirect(url_for("team.page", event=event.id, _anchor=anchor), code=303)


def _toolbox_again(name: str, typed: dict[str, str], error: str | None, code: int) -> Any:
    """The team page with one action's form filled with what was typed (and its error beside it)."""
    if error is not None and len(error) > 300:  # a message quoting a long value (PostgreSQL's) is cut
        error = error[:297] + "..."
    g.toolbox = {"action": name, "values": typed, "error": error}
    return page(), code


@bp.get("/status")
@require("team", "facilitator")
def status() -> Any:
    st = state()
    return panels.status_html(st, st.view())


@bp.get("/chart.svg")
@require("team", "facilitator")
def chart() -> Any:
    st = state()
    return panels.chart_svg(st, st.view()), 200, {"Content-Type": "image/svg+xml"}
