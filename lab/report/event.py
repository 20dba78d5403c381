"""The event report: every team of a game day side by side (score cards, times, where each spent
its time) and every team's path on one time axis beside the original incident's, with a link to
each team's own report (written here when missing).

    events/<event>/report.md     for the debrief's notes
    events/<event>/report.html   the same, with the paths chart (inline SVG)
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.core.scoring import ScoreCard
from lab.errors import LabError
from lab.report import charts
from lab.core.original import path_timeline
from lab.report.facts import clock, duration
from lab.report.run import Run, load_run
from lab.timeline import rundir

REPORT_MD, REPORT_HTML = "report.md", "report.html"


@dataclass
class TeamResult:
    team: str
    seed: int
    responder: str
    outcome: str
    run: Run | None
    card: ScoreCard | None
    report: Path | None


def _results(info: dict[str, Any]) -> tuple[list[TeamResult], Run | None, ScoreCard | None]:
    from lab.report.cli import scored, write_reports

    out: list[TeamResult] = []
    original: tuple[Run, ScoreCard] | None = None
    for team in info.get("teams", []):
        run = card = page = None
        run_dir = Path(team["run_dir"]) if team.get("run_dir") else None
        if run_dir is not None and (run_dir / rundir.EVENTS).is_file():
            try:
                run = load_run(run_dir)
                card, original_card = scored(run)
                if original is None:
                    original = (run, original_card)
                page = run_dir / rundir.REPORT_HTML
                if not page.is_file():
                    write_reports(run, card, original_card)
            except LabError:
                run = card = page = None
        out.append(TeamResult(team["team"], team["seed"], team["responder"], team.get("outcome") or "unknown",
                              run, card, page))
    return out, original[0] if original else None, original[1] if original else None


def _since(t: float | None, origin: float | None) -> str:
    return "-" if t is None or origin is None else duration(t - origin)


def _rows(results: list[TeamResult], original: ScoreCard | None) -> list[tuple[str, list[str]]]:
    """(what, one cell per team, then the original's) for the side-by-side table."""
    cards = [r.card for r in results] + [original]

    def cell(card: ScoreCard | None, fn: Any) -> str:
        return "-" if card is None else fn(card)

    return [
        ("score", [cell(c, lambda c: f"{c.total:.0f} / par {c.par_score:.0f}") for c in cards]),
        ("outcome", [r.outcome.replace("_", " ") for r in results] + ["(the real incident)"]),
        ("responder", [r.responder.replace("_", " ") for r in results] + ["the original team"]),
        ("seed", [str(r.seed) for r in results] + ["-"]),
        ("first alert", [cell(c, lambda c: clock(c.phases.origin_s) if c.phases.origin_s is not None else "-") for c in cards]),
        ("acknowledged after", [cell(c, lambda c: _since(c.phases.ack_s, c.phases.origin_s)) for c in cards]),
        ("diagnosed after", [cell(c, lambda c: _since(c.phases.diagnosis_s, c.phases.origin_s)) for c in cards]),
        ("players affected for", [cell(c, lambda c: _since(c.phases.impact_end_s, c.phases.impact_start_s)) for c in cards]),
        ("runbook steps done", [cell(c, lambda c: str(sum(1 for _, e in c.steps if e is not None))) for c in cards]),
        ("red herrings", [cell(c, lambda c: str(len(c.herrings))) for c in cards]),
        ("hints taken", [cell(c, lambda c: str(len(c.deductions))) for c in cards]),
    ]


def _time_spent(card: ScoreCard | None) -> str:
    """Where a team spent its time: detecting, diagnosing, mitigating (drill minutes)."""
    if card is None:
        return "-"
    ph = card.phases
    parts = []
    for label, a, b in (("detecting", ph.origin_s, ph.ack_s), ("diagnosing", ph.ack_s, ph.diagnosis_s),
                        ("mitigating", ph.diagnosis_s, ph.impact_end_s)):
        parts.append(f"{label} {duration(b - a)}" if a is not None and b is not None else f"{label} -")
    return ", ".join(parts)


def render_markdown(info: dict[str, Any], results: list[TeamResult], original: ScoreCard | None) -> str:
    plan = info.get("plan", {})
    teams = [r.team for r in results]
    lines = [f"# Game day {info['event']}: {plan.get('scenario', '')}", "",
             f"{len(results)} teams, {plan.get('stack', 'local')} stacks, speed {plan.get('speed', 1):g}, "
             f"event seed {plan.get('seed')}; status: {info.get('status')}.", "",
             "| | " + " | ".join(teams) + " | original |",
             "|---|" + "---|" * (len(teams) + 1)]
    for what, cells in _rows(results, original):
        lines.append(f"| {what} | " + " | ".join(cells) + " |")
    lines += ["", "## Where each team spent its time", ""]
    for r in results:
        lines.append(f"- **{r.team}**: {_time_spent(r.card)}")
    lines += ["", "## Each team's report", ""]
    for r in results:
        lines.append(f"- {r.team}: " + (str(r.report) if r.report else "no run recorded"))
    return "\n".join(lines) + "\n"


def render_html(info: dict[str, Any], results: list[TeamResult], original_run: Run | None,
                original: ScoreCard | None) -> str:
    esc = html.escape
    plan = info.get("plan", {})
    head = "".join(f"<th>{esc(r.team)}</th>" for r in results) + "<th>original</th>"
    body = "".join(f"<tr><th>{esc(what)}</th>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>"
                   for what, cells in _rows(results, original))
    chart = ""
    if original_run is not None and original is not None:
        original_tl = path_timeline(original_run.original)
        rows = [(original_run.original.label, original, original_tl, charts.original_marks(original_tl))]
        for r in results:
            if r.card is not None and r.run is not None:
                rows.append((r.team, r.card, r.run.timeline,
                             [m for m in charts.marks(r.run.timeline) if m.event.source.value == "team"]))
        chart = f'<section id="paths"><h2>Every path beside the original</h2>{charts.paths_chart(rows)}</section>'
    spent = "".join(f"<li><strong>{esc(r.team)}</strong>: {esc(_time_spent(r.card))}</li>" for r in results)
    links = "".join(f'<li>{esc(r.team)}: <a href="{esc(r.report.as_uri())}">report</a></li>' if r.report
                    else f"<li>{esc(r.team)}: no run recorded</li>" for r in results)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Game day {esc(info['event'])}</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>"
            f"<h1>Game day {esc(info['event'])}: {esc(str(plan.get('scenario', '')))}</h1>"
            f"<p>{len(results)} teams, {esc(str(plan.get('stack', 'local')))} stacks, status {esc(str(info.get('status')))}.</p>"
            f'<table id="teams"><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>'
            f"{chart}<h2>Where each team spent its time</h2><ul>{spent}</ul><h2>Each team's report</h2><ul>{links}</ul>"
            "</body></html>")


def write_event_report(info: dict[str, Any]) -> tuple[Path, Path]:
    """Write the event's report.md and report.html into its directory; return their paths."""
    results, original_run, original = _results(info)
    target = Path(info["root"]) / "events" / info["event"]
    md, page = target / REPORT_MD, target / REPORT_HTML
    md.write_text(render_markdown(info, results, original))
    page.write_text(render_html(info, results, original_run, original))
    return md, page
