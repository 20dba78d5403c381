"""Charts for the HTML report, drawn by matplotlib as inline SVG (no pyplot state, no files).

    availability + p95 latency over drill time, with fault (red), alert (orange) and team action (blue) markers
    the team's path beside the original March 2023 path, minutes since the first alert
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from lab.core.scoring import ScoreCard, Timeline  # noqa: E402
from lab.core.timeline import Source  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "gameday"  # stable ids: the same run draws the same SVG
matplotlib.rcParams["svg.fonttype"] = "none"


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


MARKS = 60  # markers per chart; a long run keeps its first ones (the rest are in the timeline)


def _marked(timeline: Timeline) -> list:  # type: ignore[type-arg]
    """Faults, alerts and team moves to mark, at most MARKS of them."""
    keep = [e for e in timeline.events
            if e.kind in ("fault.injected", "alert.firing", "alert.resolved") or e.source == Source.TEAM]
    return keep[:MARKS]


def slo_chart(timeline: Timeline, card: ScoreCard, slo: float) -> str:
    """Availability and p95 latency over drill time, with markers; an SVG element."""
    fig = Figure(figsize=(10, 4.6))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    xs = [s.offset_s for s in timeline.samples]
    top.plot(xs, [s.ok / s.total * 100 if s.total else float("nan") for s in timeline.samples],  # a second with no answer
             color="#1b7837", lw=1.6, label="availability (probe)")
    top.axhline(slo * 100, color="#999", ls=":", lw=1, label=f"SLO {slo:.0%}")
    top.set_ylim(-3, 103)
    top.set_ylabel("availability %")
    lat = [(s.offset_s, s.p95_s * 1000) for s in timeline.samples if s.p95_s is not None]
    bottom.plot([x for x, _ in lat], [y for _, y in lat], color="#5e3c99", lw=1.3)
    bottom.set_ylabel("p95 ms")
    bottom.set_xlabel("drill seconds")
    for ev in _marked(timeline):
        if ev.kind == "fault.injected":
            colour, label = "#d7301f", f"fault {ev.data.get('step', '')}"
        elif ev.kind in ("alert.firing", "alert.resolved"):
            colour, label = "#fd8d3c", f"{ev.data.get('alert', '')} {ev.kind.split('.')[1]}"
        elif ev.source == Source.TEAM:
            colour, label = "#2166ac", ev.kind.replace("action.", "")
        else:
            continue
        for ax in (top, bottom):
            ax.axvline(ev.offset_s, color=colour, lw=0.9, alpha=0.7, ls="--" if ev.source != Source.TEAM else "-")
        top.annotate(label, (ev.offset_s, 101), rotation=90, fontsize=6.5, color=colour, va="top", ha="right")
    if card.phases.impact_start_s is not None:
        end = card.phases.impact_end_s if card.phases.impact_end_s is not None else max(xs, default=0)
        top.axvspan(card.phases.impact_start_s, end, color="#d7301f", alpha=0.08, label="players affected")
    top.legend(loc="lower left", fontsize=7)
    for ax in (top, bottom):
        ax.grid(alpha=0.25)
    return _svg(fig)


def path_chart(card: ScoreCard, timeline: Timeline, original_card: ScoreCard, original: Timeline,
               label: str = "original 2023") -> str:
    """Both paths on one axis of minutes since the first alert; herrings red, runbook steps blue."""
    fig = Figure(figsize=(10, 2.6))
    ax = fig.subplots()
    for row, (name, c, tl) in enumerate(((label, original_card, original), ("this drill", card, timeline))):
        origin = c.phases.origin_s or 0.0
        herrings = {eid for _, eid in c.herrings}
        steps = {eid for _, eid in c.steps if eid is not None}
        if c.phases.impact_start_s is not None:
            end = c.phases.impact_end_s if c.phases.impact_end_s is not None else max((e.offset_s for e in tl.events), default=0)
            ax.barh(row, (end - c.phases.impact_start_s) / 60, left=(c.phases.impact_start_s - origin) / 60,
                    height=0.5, color="#fcbba1", label="players affected" if row == 0 else None)
        for ev in [e for e in tl.events if e.source == Source.TEAM][:MARKS]:
            colour = "#d7301f" if ev.id in herrings else "#2166ac" if ev.id in steps else "#777"
            x = (ev.offset_s - origin) / 60
            ax.plot([x], [row], marker="o", color=colour, ms=5)
            ax.annotate(ev.kind.replace("action.", ""), (x, row + 0.28), rotation=35, fontsize=6.5, color=colour)
    ax.set_yticks([0, 1], [label, "this drill"])
    ax.set_ylim(-0.6, 2.0)
    ax.set_xlabel("minutes since the first alert (blue: runbook step, red: red herring)")
    ax.grid(axis="x", alpha=0.25)
    ax.legend(loc="upper right", fontsize=7)
    return _svg(fig)
