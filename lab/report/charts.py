"""Charts for the HTML report, drawn by matplotlib as inline SVG (no pyplot state, no files).

    availability + p95 latency over drill time, with fault (red), alert (orange), team action (blue)
        and drill-end (green / dark red) lines; each line gets a number in a strip above the chart
    the team's path beside the original March 2023 path, minutes since the first alert, numbered alike

A number's meaning (drill time, event, who) is in the legend table the report prints under the
chart (`marks`, `original_marks`). Numbers are laid out in lanes: a number that would touch the one
before it goes to the next lane up, and when every lane is taken it moves right of the nearest one,
with a thin leader line to its moment, so no two numbers ever overlap however crowded the timeline.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from string import ascii_uppercase

import matplotlib

matplotlib.use("Agg")
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from lab.core.scoring import ScoreCard, Timeline  # noqa: E402
from lab.core.timeline import Event, Source  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "gameday"  # stable ids: the same run draws the same SVG
matplotlib.rcParams["svg.fonttype"] = "none"

MARKS = 60  # numbered events per chart; a long run keeps its first ones (the rest are in the timeline)
FONT = 6.5  # points, for the numbers
PAD = 0.25  # the number's box padding, in font sizes
GAP_PT = 2.0  # at least this much space between two numbers' boxes
LABEL_GID = "mark-label"  # every number's Text carries this gid (the tests find them by it)

FAULT, ALERT, TEAM, RESOLVED, TOO_EARLY, ANSWER = "#d7301f", "#fd8d3c", "#2166ac", "#1b7837", "#67001f", "#762a83"
END_KINDS = ("drill.resolving", "drill.resolved", "drill.resolved_too_early")


@dataclass(frozen=True)
class Mark:
    """One numbered event on the charts."""

    number: str
    event: Event
    colour: str
    label: str  # a few words: "fault surge", "SiteAvailabilityLow firing", "inspect-db"


def _svg(fig: Figure) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _colour_label(ev: Event) -> tuple[str, str] | None:
    if ev.kind == "fault.injected":
        return FAULT, f"fault {ev.data.get('step', '')}".strip()
    if ev.kind in ("alert.firing", "alert.resolved"):
        return ALERT, f"{ev.data.get('alert', '')} {ev.kind.split('.')[1]}".strip()
    if ev.kind == "escalation.answered":
        return ANSWER, f"{ev.data.get('team', 'paged')} team answered"
    if ev.kind in END_KINDS:
        return (TOO_EARLY if ev.kind == "drill.resolved_too_early" else RESOLVED), ev.kind[len("drill."):].replace("_", " ")
    if ev.source == Source.TEAM:
        return TEAM, ev.kind.replace("action.", "")
    return None


def marks(timeline: Timeline) -> list[Mark]:
    """Faults, alerts, team moves, answers to pages and the drill's end, numbered 1.. (at most MARKS)."""
    out: list[Mark] = []
    for ev in timeline.events:
        found = _colour_label(ev)
        if found is None:
            continue
        out.append(Mark(str(len(out) + 1), ev, *found))
        if len(out) == MARKS:
            break
    return out


def original_marks(original: Timeline) -> list[Mark]:
    """The original path's moves, lettered A.. (then AA..), for the path chart."""
    team = [e for e in original.events if e.source == Source.TEAM][:MARKS]
    letters = [ascii_uppercase[i] if i < 26 else ascii_uppercase[i // 26 - 1] + ascii_uppercase[i % 26]
               for i in range(len(team))]
    return [Mark(letter, e, "#777", e.kind.replace("action.", "")) for letter, e in zip(letters, team)]


def _canvas(fig: Figure) -> FigureCanvasAgg:
    """An Agg canvas: its renderer measures text exactly as the figure will lay it out."""
    return FigureCanvasAgg(fig)


def stagger(ax: Axes, items: list[tuple[float, str, str]], y0: float, y1: float) -> list[Text]:
    """Put each (x, text, colour) in the band y0..y1 (data coordinates of `ax`): in the lowest lane
    where it fits centred on x, else right of the lane that ends first, with a leader line to x.
    Boxes are measured with the figure's renderer, so no two overlap (at least GAP_PT apart)."""
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    renderer = _canvas(fig).get_renderer()  # type: ignore[no-untyped-call]
    px_per_pt = fig.dpi / 72
    pad, gap = PAD * FONT * px_per_pt, GAP_PT * px_per_pt
    to_px, to_data = ax.transData, ax.transData.inverted()
    lo, hi = to_px.transform((0, y0))[1], to_px.transform((0, y1))[1]
    texts: list[Text] = []
    lanes: list[float] = []  # each lane's right edge, in pixels
    lane_h = 0.0
    for x, label, colour in sorted(items, key=lambda item: item[0]):
        text = ax.text(x, y0, label, fontsize=FONT, color=colour, ha="center", va="center", zorder=6, clip_on=False,
                       gid=LABEL_GID, bbox={"boxstyle": f"round,pad={PAD}", "fc": "white", "ec": colour, "lw": 0.6})
        box = text.get_window_extent(renderer)
        width, height = box.width + 2 * pad, box.height + 2 * pad
        if not lanes:
            lane_h = height + gap
            lanes = [-math.inf] * max(1, int((hi - lo) // lane_h))
        px = to_px.transform((x, 0))[0]
        free = [i for i, right in enumerate(lanes) if right + gap <= px - width / 2]
        lane = free[0] if free else min(range(len(lanes)), key=lambda i: lanes[i])
        cx = px if free else lanes[lane] + gap + width / 2
        lanes[lane] = cx + width / 2
        cy = lo + (lane + 0.5) * lane_h
        tx, ty = to_data.transform((cx, cy))
        text.set_position((tx, ty))
        foot = to_data.transform((cx, cy - height / 2))[1]
        ax.plot([x, tx], [y0, foot], color=colour, lw=0.5, alpha=0.8, zorder=5, clip_on=False)
        texts.append(text)
    return texts


def _span(xs: list[float]) -> tuple[float, float]:
    lo, hi = min(xs, default=0.0), max(xs, default=1.0)
    margin = max(hi - lo, 1.0) * 0.02
    return lo - margin, hi + margin


def slo_figure(timeline: Timeline, card: ScoreCard, slo: float) -> Figure:
    """Availability and p95 latency over drill time, each marked event a line with its number above."""
    numbered = marks(timeline)
    fig = Figure(figsize=(10, 5.4))
    strip, top, bottom = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": [1.1, 3, 2], "hspace": 0.08})
    xs = [s.offset_s for s in timeline.samples]
    top.plot(xs, [s.ok / s.total * 100 if s.total else float("nan") for s in timeline.samples],  # a second with no answer
             color="#1b7837", lw=1.6, label="availability (probe)")
    top.axhline(slo * 100, color="#999", ls=":", lw=1, label=f"SLO {slo:.0%}")
    top.set_ylim(-3, 103)
    top.set_ylabel("availability %")
    lat = [(s.offset_s, s.p95_s * 1000) for s in timeline.samples if s.p95_s is not None]
    bottom.plot([x for x, _ in lat], [y for _, y in lat], color="#5e3c99", lw=1.3)
    bottom.set_ylabel("p95 ms")
    bottom.set_xlabel("drill seconds (numbers: see the table below the chart)")
    for m in numbered:
        for ax in (top, bottom):
            ax.axvline(m.event.offset_s, color=m.colour, lw=0.9, alpha=0.7, ls="-" if m.event.source == Source.TEAM else "--")
    if card.phases.impact_start_s is not None:
        end = card.phases.impact_end_s if card.phases.impact_end_s is not None else max(xs, default=0)
        top.axvspan(card.phases.impact_start_s, end, color="#d7301f", alpha=0.08, label="players affected")
    top.legend(loc="lower left", fontsize=7)
    for ax in (top, bottom):
        ax.grid(alpha=0.25)
    top.set_xlim(*_span(xs + [m.event.offset_s for m in numbered]))
    strip.set_ylim(0, 1)
    strip.axis("off")
    stagger(strip, [(m.event.offset_s, m.number, m.colour) for m in numbered], 0.0, 1.0)
    return fig


def slo_chart(timeline: Timeline, card: ScoreCard, slo: float) -> str:
    """Availability and p95 latency over drill time, with numbered markers; an SVG element."""
    return _svg(slo_figure(timeline, card, slo))


def path_figure(card: ScoreCard, timeline: Timeline, original_card: ScoreCard, original: Timeline,
                label: str = "original 2023") -> Figure:
    """Both paths on one axis of minutes since the first alert; herrings red, runbook steps blue;
    the drill's moves carry their numbers from `marks`, the original's their letters."""
    return paths_figure([(label, original_card, original, original_marks(original)),
                         ("this drill", card, timeline, [m for m in marks(timeline) if m.event.source == Source.TEAM])])


def paths_figure(rows: list[tuple[str, ScoreCard, Timeline, list[Mark]]]) -> Figure:
    """Several paths (the original's, then one per drill) on one axis of minutes since each one's
    first alert: the players' impact as a bar, each move a dot (runbook step blue, herring red)."""
    fig = Figure(figsize=(10, 1.2 + 1.1 * len(rows)))
    ax = fig.subplots()
    placed: list[tuple[int, list[tuple[float, str, str]]]] = []
    xs: list[float] = []
    for row, (_, c, tl, numbered) in enumerate(rows):
        origin = c.phases.origin_s or 0.0
        herrings = {eid for _, eid in c.herrings}
        steps = {eid for _, eid in c.steps if eid is not None}
        if c.phases.impact_start_s is not None:
            end = c.phases.impact_end_s if c.phases.impact_end_s is not None else max((e.offset_s for e in tl.events), default=0)
            ax.barh(row, (end - c.phases.impact_start_s) / 60, left=(c.phases.impact_start_s - origin) / 60,
                    height=0.4, color="#fcbba1", label="players affected" if row == 0 else None)
            xs += [(c.phases.impact_start_s - origin) / 60, (end - origin) / 60]
        items = []
        for m in numbered:
            colour = "#d7301f" if m.event.id in herrings else "#2166ac" if m.event.id in steps else "#777"
            x = (m.event.offset_s - origin) / 60
            ax.plot([x], [row], marker="o", color=colour, ms=5)
            items.append((x, m.number, colour))
            xs.append(x)
        placed.append((row, items))
    ax.set_yticks(list(range(len(rows))), [label for label, *_ in rows])
    ax.set_ylim(-0.35, len(rows))
    ax.set_xlim(*_span(xs))
    ax.set_xlabel("minutes since the first alert (blue: runbook step, red: red herring; numbers and letters: "
                  "see the table below)")
    ax.grid(axis="x", alpha=0.25)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, frameon=False)  # above the axes: clear of the labels
    for row, items in placed:
        stagger(ax, items, row + 0.25, row + 0.95)
    return fig


def path_chart(card: ScoreCard, timeline: Timeline, original_card: ScoreCard, original: Timeline,
               label: str = "original 2023") -> str:
    """The path chart as an SVG element."""
    return _svg(path_figure(card, timeline, original_card, original, label))


def paths_chart(rows: list[tuple[str, ScoreCard, Timeline, list[Mark]]]) -> str:
    """Several paths on one axis (an event's teams beside the original), as an SVG element."""
    return _svg(paths_figure(rows))
