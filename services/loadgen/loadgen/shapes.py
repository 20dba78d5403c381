"""Traffic shapes: the target arrival rate as a pure function of time since the shape started.

    constant  rate                          ────────────
    step      rate, then `to` from `at`     ────┐____ / ────┘‾‾‾‾
    ramp      rate -> `to` linearly `over`  ────/‾‾‾‾‾‾
    spike     `to` from `at` for `duration` ────┌──┐────

Every shape compiles to piecewise-linear segments; `Schedule` turns them into exact arrival
times (where the integral of the rate crosses the next whole request), so the generator starts
requests on schedule whatever the responses do.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

SHAPES = ("constant", "step", "ramp", "spike")
MAX_RATE = 100_000.0
MAX_SECONDS = 86_400.0


class ShapeError(ValueError):
    """A shape description names an unknown shape or a field out of range (one line)."""


@dataclass(frozen=True)
class Shape:
    """One traffic shape: `kind` with its parameters (unused ones stay at their defaults)."""

    kind: str = "constant"
    rate: float = 0.0
    to: float = 0.0
    at: float = 0.0
    over: float = 0.0
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The fields that matter for this kind (what /state reports and /rate accepts)."""
        keep = FIELDS[self.kind]
        return {"shape": self.kind, **{k: v for k, v in asdict(self).items() if k in keep}}


FIELDS = {
    "constant": ("rate",),
    "step": ("rate", "to", "at"),
    "ramp": ("rate", "to", "over"),
    "spike": ("rate", "to", "at", "duration"),
}


def parse_shape(data: dict[str, Any]) -> Shape:
    """Validate a /rate body (`{"rate": 50, "shape": "spike", "to": 400, ...}`) into a Shape."""
    if not isinstance(data, dict):
        raise ShapeError("expected a JSON object, e.g. {\"rate\": 100, \"shape\": \"constant\"}")
    kind = data.get("shape", "constant")
    if kind not in FIELDS:
        raise ShapeError(f"shape: unknown shape {kind!r}; valid: {', '.join(SHAPES)}")
    allowed = FIELDS[kind]
    for key in data:
        if key != "shape" and key not in allowed:
            raise ShapeError(f"{key}: not a field of shape {kind!r}; valid: {', '.join(allowed)}")
    if "rate" not in data:
        raise ShapeError("rate: required (requests per second, 0-100000)")
    values: dict[str, float] = {}
    for key in allowed:
        if key not in data:
            if key in ("to",):
                raise ShapeError(f"to: required for shape {kind!r} (requests per second, 0-100000)")
            if key in ("over", "duration"):
                raise ShapeError(f"{key}: required for shape {kind!r} (seconds, > 0)")
            continue
        raw = data[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            raise ShapeError(f"{key}: expected a number, got {raw!r}")
        limit = MAX_RATE if key in ("rate", "to") else MAX_SECONDS
        if not 0 <= raw <= limit:
            unit = "requests per second" if key in ("rate", "to") else "seconds"
            raise ShapeError(f"{key}: {raw:g} is out of range; valid: 0-{limit:g} ({unit})")
        if key in ("over", "duration") and raw == 0:
            raise ShapeError(f"{key}: must be greater than 0 seconds")
        values[key] = float(raw)
    return Shape(kind=kind, **values)


@dataclass(frozen=True)
class Segment:
    """The rate goes linearly from r0 at `start` to r1 at `end` (end may be infinite)."""

    start: float
    end: float
    r0: float
    r1: float

    def rate(self, t: float) -> float:
        if self.end == math.inf or self.end == self.start:
            return self.r0
        return self.r0 + (self.r1 - self.r0) * (t - self.start) / (self.end - self.start)


def segments(shape: Shape) -> list[Segment]:
    """The shape as contiguous piecewise-linear segments from t=0 to infinity."""
    inf = math.inf
    if shape.kind == "constant":
        return [Segment(0.0, inf, shape.rate, shape.rate)]
    if shape.kind == "step":
        return [Segment(0.0, shape.at, shape.rate, shape.rate), Segment(shape.at, inf, shape.to, shape.to)]
    if shape.kind == "ramp":
        return [Segment(0.0, shape.over, shape.rate, shape.to), Segment(shape.over, inf, shape.to, shape.to)]
    if shape.kind == "spike":
        end = shape.at + shape.duration
        return [Segment(0.0, shape.at, shape.rate, shape.rate), Segment(shape.at, end, shape.to, shape.to),
                Segment(end, inf, shape.rate, shape.rate)]
    raise ShapeError(f"shape: unknown shape {shape.kind!r}; valid: {', '.join(SHAPES)}")


def rate_at(shape: Shape, t: float) -> float:
    """The target rate (requests per second) `t` seconds after the shape started."""
    for seg in segments(shape):
        if seg.start <= t < seg.end:
            return seg.rate(t)
    return segments(shape)[-1].r1


def expected_count(shape: Shape, t0: float, t1: float) -> float:
    """The integral of the rate over [t0, t1]: how many requests the shape asks for."""
    total = 0.0
    for seg in segments(shape):
        a, b = max(t0, seg.start), min(t1, seg.end)
        if b > a:
            total += (seg.rate(a) + seg.rate(b)) / 2 * (b - a)
    return total


class Schedule:
    """Exact arrival times of a shape: each arrival is where the integral of the rate reaches
    the next whole request. Times are seconds since the shape started."""

    __slots__ = ("_segs", "_i", "_t")

    def __init__(self, shape: Shape):
        self._segs = segments(shape)
        self._i = 0
        self._t = 0.0

    def next(self) -> float:
        """The time of the next arrival (math.inf if the rate stays at zero for ever)."""
        need = 1.0
        t = self._t
        segs = self._segs
        while True:
            seg = segs[self._i]
            r = seg.rate(t)
            if seg.end == math.inf:
                if r <= 0:
                    self._t = math.inf
                    return math.inf
                t += need / r
                self._t = t
                return t
            slope = (seg.r1 - seg.r0) / (seg.end - seg.start) if seg.end > seg.start else 0.0
            left = seg.end - t
            available = (r + seg.rate(seg.end)) / 2 * left if left > 0 else 0.0
            if available >= need - 1e-9:
                if abs(slope) < 1e-12:
                    x = need / r
                else:
                    disc = r * r + 2 * slope * need
                    x = (-r + math.sqrt(max(disc, 0.0))) / slope
                t = min(t + x, seg.end)
                self._t = t
                return t
            need -= available
            t = seg.end
            self._i += 1
