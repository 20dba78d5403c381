"""report.html: one self-contained page (inline CSS and SVG, nothing fetched), readable offline."""

from __future__ import annotations

from html import escape

from lab.core import safe_text
from lab.core.original import path_timeline
from lab.core.scoring import RATING_MEANING, ScoreCard
from lab.report import charts, facts, markdown
from lab.report.card import card_words
from lab.report.run import Run

def _e(text: object) -> str:
    """Text for the page: control characters made visible (lab.core.safe_text), then <, >, &, quotes escaped."""
    return escape(safe_text.html(text))


STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.num{text-align:right}.P{color:#1b7837}.S{color:#7a7a00}.M{color:#c05800}.U{color:#b2182b}
.ev{color:#666;font-size:.85em}.legend{font-size:.85em}.legend caption{text-align:left;color:#666}.key{font-weight:600}.big{font-size:2em;font-weight:600}svg{max-width:100%;height:auto}
"""


def _card(card: ScoreCard) -> str:
    rows = []
    for c in card.components:
        rows.append(f'<tr><th colspan="2">{_e(c.title)}</th><th class="num">{c.points:.1f} / {c.weight:g}</th>'
                    f'<th class="{c.rating}">{c.rating}: {_e(RATING_MEANING[c.rating])}</th></tr>')
        for p in c.items:
            ev = ", ".join(f"#{i}" for i in p.evidence)
            rows.append(f'<tr><td></td><td>{_e(p.reason)}</td><td class="num">{p.points:.1f} / {p.max:g}</td>'
                        f'<td class="ev">{_e(ev)}</td></tr>')
    caps = card.caps or ((card.cap,) if card.cap else ())
    cap = "".join(f"<p><strong>Capped:</strong> {_e(c.reason)}</p>" for c in caps)
    cap += "".join(f'<p>Deducted {-d.points:g}: {_e(d.reason)} <span class="ev">#{", #".join(map(str, d.evidence))}</span></p>'
                   for d in card.deductions)
    cap += "".join(f"<p>{_e(line)}</p>" for line in card_words(card))
    verdict = "at or above par" if card.passed else "below par"
    return (f'<p><span class="big">{card.total:.1f}</span> / 100 (par {card.par_score:g}: {verdict})</p>{cap}'
            f"<table><tr><th></th><th>reason</th><th>points</th><th>rating / evidence</th></tr>{''.join(rows)}</table>")


def _timeline(run: Run) -> str:
    listed, more = facts.shown(run.timeline)
    rows = "".join(
        f'<tr><td>{_e(facts.clock(e.offset_s))}</td><td>{_e(e.source.value)}</td><td>{_e(facts.describe(e))}</td>'
        f'<td class="ev">#{e.id}</td></tr>'
        for e in listed)
    if more:
        rows += f'<tr><td colspan="4">... and {more} more events (see events.jsonl)</td></tr>'
    return f"<table><tr><th>drill time</th><th>source</th><th>what happened</th><th>event</th></tr>{rows}</table>"


def _comparison(card: ScoreCard, original: ScoreCard, incident: str) -> str:
    rows = "".join(f"<tr><td>{_e(r.milestone)}</td><td>{_e(facts.duration(r.drill_s) if r.drill_s is not None else 'never')}</td>"
                   f"<td>{_e(facts.duration(r.original_s) if r.original_s is not None else 'never')}</td></tr>"
                   for r in facts.comparison(card, original))
    rows += (f"<tr><td>error budget burned</td><td>{_e(facts.duration(card.phases.budget_s))}</td>"
             f"<td>{_e(facts.duration(original.phases.budget_s))}</td></tr>"
             f"<tr><td>score</td><td>{card.total:.1f}</td><td>{original.total:.1f}</td></tr>")
    return f"<table><tr><th>since the first alert</th><th>this drill</th><th>original ({_e(incident)})</th></tr>{rows}</table>"


def _when(mark: charts.Mark, minutes_from: float | None) -> str:
    if minutes_from is None:
        return facts.clock(mark.event.offset_s)
    return f"{(mark.event.offset_s - minutes_from) / 60:.0f} min"


def _legend(marks: list[charts.Mark], minutes_from: float | None = None, caption: str = "") -> str:
    """What each number (or letter) on a chart stands for: when, what, who."""
    if not marks:
        return ""
    rows = "".join(
        f'<tr><td class="num"><span class="key" style="color:{m.colour}">{_e(m.number)}</span></td>'
        f"<td>{_e(_when(m, minutes_from))}</td><td>{_e(facts.describe(m.event))}</td><td>{_e(m.event.actor)}</td></tr>"
        for m in marks)
    head = "drill time" if minutes_from is None else "since the first alert"
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return (f'<table class="legend">{cap}<tr><th>#</th><th>{head}</th><th>what happened</th><th>by</th></tr>'
            f"{rows}</table>")


def _outcome(run: Run) -> str:
    text = f"<p><strong>Outcome:</strong> {_e(facts.outcome_text(facts.outcome_of(run.timeline)))}.</p>"
    ending = facts.ending(run.timeline)
    return text + (f"<p>{_e(ending)}</p>" if ending else "")


def render(run: Run, card: ScoreCard, original: ScoreCard) -> str:
    """The whole page as text."""
    sc = run.scenario
    imp = facts.impact(card, run.timeline)
    summary = ("The probe never saw players affected." if imp.start_s is None else
               f"Players affected from {facts.clock(imp.start_s)} to {facts.clock(imp.end_s)}: "
               f"{imp.failed_share:.0%} of the probe's requests failed (peak {imp.peak_share:.0%}); "
               f"error budget burned: {facts.duration(card.phases.budget_s)} of full outage.")
    follow = "".join(f"<li>{_e(f)}</li>" for f in run.runbook.followups)
    follow += "".join(f"<li>{_e(t)} <em>(team note)</em></li>" for t in facts.todos(run.timeline))
    slo = charts.slo_chart(run.timeline, card, sc.success.availability_min) if run.timeline.samples else \
        "<p>No probe samples were recorded for this run.</p>"
    slo += _legend(charts.marks(run.timeline), caption="The numbers on the charts")
    original_tl = path_timeline(run.original)
    path = charts.path_chart(card, run.timeline, original, original_tl, run.original.label)
    path += _legend(charts.original_marks(original_tl), original.phases.origin_s or 0.0,
                    f"The letters on the chart: {run.original.label}")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(sc.title)}: drill report</title>
<style>{STYLE}</style></head>
<body>
<h1>{_e(sc.title)}</h1>
<p>Drill <code>{_e(run.run_dir.name)}</code>, scenario <code>{_e(sc.id)}</code>, runbook <code>{_e(run.runbook.id)}</code>.
Times are drill time. The postmortem draft is <code>report.md</code> beside this file
({_e(', '.join(markdown.SECTIONS))}).</p>
<h2>Issue Summary</h2><p>{_e(summary)}</p>{_outcome(run)}
<h2>Availability and latency</h2>{slo}
<h2>Score</h2>{_card(card)}
<h2>Beside the original incident</h2>{path}{_comparison(card, original, run.original.incident)}
<h2>Timeline</h2>{_timeline(run)}
<h2>Corrective and Preventative Measures</h2><ul>{follow}</ul>
</body></html>
"""
