"""The live SLO chart as inline SVG: availability and p95 latency over drill time.

Pure: samples in, markup out. Drawn on the server so that the console needs no chart library
and works offline; a few hundred points at most (longer runs are bucketed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, PANEL, GAP, LEFT, RIGHT, TOP = 720, 90, 28, 52, 12, 14
MAX_POINTS = 360


@dataclass(frozen=True)
class ChartPoint:
    """One probe second: drill time, availability (0..1 or None: no request) and p95 in ms."""

    t: float
    availability: float | None
    p95_ms: float | None


def bucket(points: Sequence[ChartPoint], limit: int = MAX_POINTS) -> list[ChartPoint]:
    """At most `limit` points: the worst availability and the worst p95 of each bucket."""
    if len(points) <= limit:
        return list(points)
    size = -(-len(points) // limit)
    out = []
    for i in range(0, len(points), size):
        chunk = points[i:i + size]
        avail = [p.availability for p in chunk if p.availability is not None]
        p95 = [p.p95_ms for p in chunk if p.p95_ms is not None]
        out.append(ChartPoint(chunk[0].t, min(avail) if avail else None, max(p95) if p95 else None))
    return out


def _clock(seconds: float) -> str:
    """t+m:ss, or t-m:ss before the drill's clock started."""
    s = int(round(seconds))
    sign, s = ("-", -s) if s < 0 else ("+", s)
    return f"t{sign}" + (f"{s // 60}:{s % 60:02d}" if s < 3600 else f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}")


def _paths(xs: list[float], ys: list[float | None]) -> str:
    """An SVG path through the points; a None breaks the line."""
    parts, pen_down = [], False
    for x, y in zip(xs, ys):
        if y is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return " ".join(parts)


def svg(points: Sequence[ChartPoint], slo: float | None = None, title: str = "SLO") -> str:
    """Two stacked panels sharing the time axis: availability (0-100 %) and p95 latency (ms)."""
    pts = bucket(points)
    height = TOP + 2 * PANEL + GAP + 24
    plot_w = WIDTH - LEFT - RIGHT
    label = escape(title)
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-label="{label}: availability and p95 latency" class="chart">')
    if not pts:
        return (head + f'<text x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle" class="muted">'
                "no probe data yet</text></svg>")
    t0, t1 = pts[0].t, max(pts[-1].t, pts[0].t + 1)
    xs = [LEFT + (p.t - t0) / (t1 - t0) * plot_w for p in pts]
    top2 = TOP + PANEL + GAP
    p95_max = max([p.p95_ms for p in pts if p.p95_ms is not None] or [1.0])
    p95_top = max(100.0, _nice(p95_max))
    avail_y = [None if p.availability is None else TOP + (1 - p.availability) * PANEL for p in pts]
    p95_y = [None if p.p95_ms is None else top2 + (1 - min(p.p95_ms, p95_top) / p95_top) * PANEL for p in pts]
    out = [head]
    for y0, name, hi in ((TOP, "availability", "100 %"), (top2, "p95 latency", f"{p95_top:g} ms")):
        out.append(f'<rect x="{LEFT}" y="{y0}" width="{plot_w}" height="{PANEL}" class="panel"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y0 + 10}" text-anchor="end" class="tick">{hi}</text>')
        low = "0 %" if name == "availability" else "0"
        out.append(f'<text x="{LEFT - 4}" y="{y0 + PANEL}" text-anchor="end" class="tick">{low}</text>')
        out.append(f'<text x="{LEFT + 4}" y="{y0 - 3}" class="tick">{name}</text>')
    if slo is not None:
        y = TOP + (1 - slo) * PANEL
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" class="slo"/>')
        out.append(f'<text x="{LEFT + plot_w - 2}" y="{y - 3:.1f}" text-anchor="end" class="tick">SLO {slo:.0%}</text>')
    out.append(f'<path d="{_paths(xs, avail_y)}" class="avail"/>')
    out.append(f'<path d="{_paths(xs, p95_y)}" class="p95"/>')
    base = top2 + PANEL + 16
    for frac in (0.0, 0.5, 1.0):
        x = LEFT + frac * plot_w
        anchor = {0.0: "start", 0.5: "middle", 1.0: "end"}[frac]
        out.append(f'<text x="{x:.1f}" y="{base}" text-anchor="{anchor}" class="tick">{_clock(t0 + frac * (t1 - t0))}</text>')
    if t0 < 0 < t1:  # the baseline before the clock started, then the drill: mark the start
        x = LEFT + (0 - t0) / (t1 - t0) * plot_w
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{top2 + PANEL}" class="start"/>')
        out.append(f'<text x="{x + 3:.1f}" y="{TOP + PANEL + 12}" class="tick">start</text>')
    elif t0 < 0:
        out.append(f'<text x="{LEFT + plot_w - 2}" y="{TOP + PANEL + 12}" text-anchor="end" class="tick">'
                   "before the clock starts</text>")
    out.append("</svg>")
    return "".join(out)


def _nice(value: float) -> float:
    """A round axis maximum at or above `value` (1, 2 or 5 times a power of ten)."""
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for m in (1, 2, 5, 10):
        if m * step >= value:
            return m * step
    return 10 * step
