"""Measured figures against a scenario's expectations: one pure function per check.

    events + probe seconds ──record_from──▶ DrillRecord ──steady_state / schedule / symptom /
                                                          slo_breach / recovery / ...──▶ Check

No clock, no files: a drill's record comes in as data (its events and the probe's per-second
samples, with drill offsets), and so do the expectations (the scenario, each fault kind's symptom).
Windows are counted in probe samples, one per real second, like the drill's own SLO window.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lab.core.scenario import Scenario
from lab.core.timeline import Event
from lab.verify.model import Check, Figure, Status, skipped

SYMPTOM_WINDOW = 3  # real seconds (probe samples) a symptom is pooled over
ROUTE_MIN_FAILURES = 3  # probe failures of one route that count as "that route is broken"
WRONG_TURNS_BUDGET_S = 15.0  # real seconds the wrong-turns script is compressed into, at most
MAX_SPEED = 1000.0

# Arcade routes as the probe's journey steps name them (lab.monitor.probe.STEPS).
ROUTE_STEPS = {"/": "lobby", "/leaderboard": "leaderboard", "/login": "login", "/matches": "start_match",
               "/matches/<id>/score": "submit_score"}


@dataclass(frozen=True)
class Second:
    """One probe sample: requests ended within one real second, at drill time `offset_s`."""

    offset_s: float
    total: int
    ok: int
    p95_ms: float | None = None
    failures: tuple[tuple[str, int], ...] = ()  # ("leaderboard:500", 2), ...


@dataclass(frozen=True)
class SymptomSpec:
    """What the probe must see while a fault is active (a fault kind's declared symptom)."""

    description: str
    availability_below: float | None = None
    latency_p95_above_ms: float | None = None
    route: str | None = None


@dataclass(frozen=True)
class DrillRecord:
    """A finished drill in the terms verify checks (drill offsets in drill seconds, walls in unix time)."""

    outcome: str  # recovered, time_limit, halted, refused, error
    speed: float
    first_wall: float
    started_wall: float | None = None
    steady: tuple[float | None, float | None] | None = None  # (availability, p95 ms) that passed
    steady_failed: tuple[float | None, float | None] | None = None
    steady_wall: float | None = None
    injected: tuple[tuple[str, float, float], ...] = ()  # (step, offset, wall)
    failed: tuple[tuple[str, str], ...] = ()  # (step, error)
    reverted: tuple[tuple[str, float], ...] = ()  # (step, offset): reverted before the end
    end_s: float = 0.0
    end_wall: float = 0.0
    end_availability: float | None = None
    recovered_s: float | None = None
    seconds: tuple[Second, ...] = ()
    alerts: tuple[tuple[str, float], ...] = ()  # (alert name, offset it fired)

    def injected_at(self, step: str) -> float | None:
        return next((offset for s, offset, _ in self.injected if s == step), None)

    def reverted_at(self, step: str) -> float | None:
        return next((offset for s, offset in self.reverted if s == step), None)


def record_from(events: Sequence[Event], seconds: Iterable[Second], speed: float,
                began_wall: float | None = None) -> DrillRecord:
    """Read a drill's events (and the probe's samples after its start) into a DrillRecord;
    `began_wall` is when the drill was started (its first event otherwise)."""
    injected: list[tuple[str, float, float]] = []
    failed: list[tuple[str, str]] = []
    reverted: list[tuple[str, float]] = []
    alerts: list[tuple[str, float]] = []
    by_fault_id: dict[str, str] = {}
    steady = steady_failed = None
    steady_wall = started_wall = recovered_s = end_availability = None
    outcome = "error"
    end_s, end_wall = 0.0, (events[0].wall if events else 0.0)
    for e in events:
        d = e.data
        if e.kind == "steady_state.ok":
            steady, steady_wall = (d.get("availability"), d.get("p95_ms")), e.wall
        elif e.kind == "steady_state.failed":
            steady_failed, steady_wall, outcome = (d.get("availability"), d.get("p95_ms")), e.wall, "refused"
        elif e.kind == "drill.started":
            started_wall = e.wall
        elif e.kind == "alert.firing":
            alerts.append((str(d.get("alert")), e.offset_s))
        elif e.kind == "fault.injected":
            injected.append((str(d.get("step")), e.offset_s, e.wall))
            by_fault_id[str(d.get("fault_id"))] = str(d.get("step"))
        elif e.kind == "fault.failed":
            failed.append((str(d.get("step")), str(d.get("error"))))
        elif e.kind == "fault.reverted" and started_wall is not None and end_s == 0.0:
            step = d.get("step") or by_fault_id.get(str(d.get("fault_id")))
            if step:
                reverted.append((str(step), e.offset_s))
        elif e.kind in ("drill.recovered", "drill.time_limit", "drill.halt"):
            outcome = {"drill.recovered": "recovered", "drill.time_limit": "time_limit", "drill.halt": "halted"}[e.kind]
            end_s, end_wall, end_availability = e.offset_s, e.wall, d.get("availability")
            if e.kind == "drill.recovered":
                recovered_s = e.offset_s
        elif e.kind == "drill.ended" and end_s == 0.0:
            end_s, end_wall = e.offset_s, e.wall
    return DrillRecord(
        outcome=outcome, speed=speed, started_wall=started_wall,
        first_wall=began_wall if began_wall is not None else (events[0].wall if events else 0.0),
        steady=steady, steady_failed=steady_failed, steady_wall=steady_wall, injected=tuple(injected),
        failed=tuple(failed), reverted=tuple(reverted), end_s=end_s, end_wall=end_wall,
        end_availability=end_availability, recovered_s=recovered_s, seconds=tuple(seconds), alerts=tuple(alerts),
    )


# --- figures over windows -------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Probe samples pooled over a few real seconds, ending at drill time `end_s`."""

    end_s: float
    availability: float | None  # ok / total over the window
    p95_ms: float | None  # the lowest per-second p95 in the window: a latency that held throughout


def windows(seconds: Sequence[Second], n: int) -> list[Window]:
    """Every run of `n` consecutive samples (or all of them, when there are fewer)."""
    n = max(1, min(n, len(seconds)))
    out = []
    for i in range(n - 1, len(seconds)):
        part = seconds[i - n + 1:i + 1]
        total = sum(s.total for s in part)
        p95s = [s.p95_ms for s in part if s.p95_ms is not None]
        out.append(Window(part[-1].offset_s, sum(s.ok for s in part) / total if total else None,
                          min(p95s) if len(p95s) == len(part) else None))
    return out


def _between(seconds: Sequence[Second], start: float, end: float) -> list[Second]:
    return [s for s in seconds if start < s.offset_s <= end]


def pct(value: float | None) -> str:
    return "no data" if value is None else f"{value * 100:.1f} %"


def _ms(value: float | None) -> str:
    return "no data" if value is None else f"{value:.0f} ms"


def _t(offset: float | None) -> str:
    return "-" if offset is None else f"t+{offset:.0f} s"


def _real(drill_seconds: float, speed: float) -> float:
    return max(0.0, drill_seconds / speed)


def _r(value: float | None, digits: int = 4) -> Figure:
    return None if value is None else round(value, digits)


# --- the checks -------------------------------------------------------------------------------------


def steady_state(scenario: Scenario, record: DrillRecord) -> Check:
    """The stack met the steady-state SLO before any fault."""
    want = scenario.steady_state
    expected = f"availability >= {pct(want.availability_min)} and p95 <= {_ms(want.p95_ms_max)} before any fault"
    seconds = (record.steady_wall or record.first_wall) - record.first_wall
    measured = record.steady if record.steady is not None else record.steady_failed
    if measured is None:
        return Check("steady_state", Status.ERROR, seconds, expected, f"the drill ended before the check ({record.outcome})")
    availability, p95 = measured
    figures = (("availability", _r(availability)), ("p95_ms", _r(p95, 1)),
               ("availability_min", want.availability_min), ("p95_ms_max", want.p95_ms_max))
    status = Status.PASSED if record.steady is not None else Status.FAILED
    return Check("steady_state", status, seconds, expected, f"availability {pct(availability)}, p95 {_ms(p95)}",
                 figures).timed(seconds)


def schedule(scenario: Scenario, record: DrillRecord) -> Check:
    """Every fault step of the schedule was injected."""
    ids = [step.id for step in scenario.faults]
    done = {step: offset for step, offset, _ in record.injected}
    failed = dict(record.failed)
    expected = f"{len(ids)}/{len(ids)} fault steps injected ({', '.join(ids)})"
    parts = [f"{step} at {_t(done[step])}" for step in ids if step in done]
    parts += [f"{step} failed: {failed[step]}" for step in ids if step in failed]
    never = [step for step in ids if step not in done and step not in failed]
    if never:
        whens = [scenario.fault(step).after or f"at_s {scenario.fault(step).at_s:g}" for step in never]
        parts += [f"{step} never came due (after {when})" for step, when in zip(never, whens)]
    walls = [wall for _, _, wall in record.injected]
    seconds = (max(walls) - record.started_wall) if walls and record.started_wall else 0.0
    status = Status.PASSED if len(done) == len(ids) else Status.FAILED
    figures: tuple[tuple[str, Figure], ...] = (("injected", len(done)), ("steps", len(ids)),
                                               *((f"{step}_at_s", _r(done[step], 1)) for step in ids if step in done))
    return Check("schedule", status, 0.0, expected, f"{len(done)}/{len(ids)} injected: {'; '.join(parts)}",
                 figures).timed(seconds)


def symptom(step_id: str, spec: SymptomSpec, record: DrillRecord, slo_min: float, slo_window: int,
            holds: bool = False) -> Check:
    """While fault `step_id` was active, the probe saw its declared symptom (or, when its kind
    declares none in the probe's terms, the scenario's SLO broke). In a scenario whose site holds
    its SLO (`slo_breaks: false`), the harm must show as an alert instead."""
    name = f"symptom[{step_id}]"
    start = record.injected_at(step_id)
    if start is None:
        return skipped(name, "the fault was never injected (see schedule)")
    end = record.reverted_at(step_id)
    end = record.end_s if end is None else end
    if holds:
        return _alert_symptom(name, spec, record, start, end)
    inside = _between(record.seconds, start, end + record.speed)  # one real second of lag
    expects: list[str] = []
    measures: list[str] = []
    onsets: list[float | None] = []
    figures: list[tuple[str, Figure]] = [("active_from_s", _r(start, 1)), ("active_until_s", _r(end, 1)),
                                         ("samples", len(inside))]
    if spec.availability_below is not None or not (spec.latency_p95_above_ms or spec.route):
        threshold = spec.availability_below if spec.availability_below is not None else slo_min
        n = SYMPTOM_WINDOW if spec.availability_below is not None else slo_window
        wins = windows(inside, n)
        lows = [w for w in wins if w.availability is not None]
        worst = min(lows, key=lambda w: w.availability or 0.0) if lows else None
        first = next((w.end_s for w in lows if (w.availability or 0.0) < threshold), None)
        what = "availability" if spec.availability_below is not None else "the SLO breaks: availability"
        expects.append(f"{what} < {pct(threshold)} over {n} s")
        measures.append(f"lowest availability {pct(worst.availability if worst else None)}"
                        + (f" at {_t(worst.end_s)}" if worst else ""))
        onsets.append(first)
        figures += [("availability_lowest", _r(worst.availability if worst else None)),
                    ("availability_below", threshold)]
    if spec.latency_p95_above_ms is not None:
        wins = [w for w in windows(inside, SYMPTOM_WINDOW) if w.p95_ms is not None]
        worst = max(wins, key=lambda w: w.p95_ms or 0.0) if wins else None
        threshold_ms = spec.latency_p95_above_ms
        first = next((w.end_s for w in wins if (w.p95_ms or 0.0) > threshold_ms), None)
        expects.append(f"p95 > {_ms(threshold_ms)} for {SYMPTOM_WINDOW} s in a row")
        measures.append(f"highest sustained p95 {_ms(worst.p95_ms if worst else None)}")
        onsets.append(first)
        figures += [("p95_ms_highest", _r(worst.p95_ms if worst else None, 1)), ("p95_ms_above", threshold_ms)]
    if spec.route is not None:
        step = ROUTE_STEPS.get(spec.route, spec.route.strip("/"))
        running = 0
        first = None
        for s in inside:
            running += sum(n for key, n in s.failures if key.split(":", 1)[0] == step)
            if first is None and running >= ROUTE_MIN_FAILURES:
                first = s.offset_s
        expects.append(f"{spec.route} failing (>= {ROUTE_MIN_FAILURES} probe failures)")
        measures.append(f"{running} probe failures of {spec.route}")
        onsets.append(first)
        figures += [("route_failures", running)]
    met = all(o is not None for o in onsets)
    onset = max(o for o in onsets if o is not None) if met else None
    figures += [("onset_s", _r(onset - start if onset is not None else None, 1))]
    measured = "; ".join(measures) + (f" (from {_t(onset)}, {onset - start:.0f} s after injection)" if onset is not None
                                      else f" while active ({_t(start)} to {_t(end)})")
    seconds = _real((onset if onset is not None else end) - start, record.speed)
    return Check(name, Status.PASSED if met else Status.FAILED, 0.0,
                 f"{spec.description}: " + " and ".join(expects), measured, tuple(figures)).timed(seconds)


def _alert_symptom(name: str, spec: SymptomSpec, record: DrillRecord, start: float, end: float) -> Check:
    fired = [(alert, offset) for alert, offset in record.alerts if start < offset <= end + record.speed]
    figures: tuple[tuple[str, Figure], ...] = (("active_from_s", _r(start, 1)), ("active_until_s", _r(end, 1)),
                                               ("alerts", len(fired)),
                                               ("onset_s", _r(fired[0][1] - start if fired else None, 1)))
    expected = f"{spec.description}: an alert fires while it is active (the site is to hold its SLO)"
    if not fired:
        return Check(name, Status.FAILED, 0.0, expected, f"no alert fired while active ({_t(start)} to {_t(end)})",
                     figures).timed(_real(end - start, record.speed))
    alert, offset = fired[0]
    return Check(name, Status.PASSED, 0.0, expected,
                 f"{alert} fired at {_t(offset)} ({offset - start:.0f} s after injection)",
                 figures).timed(_real(offset - start, record.speed))


def slo_holds(scenario: Scenario, record: DrillRecord, slo_window: int) -> Check:
    """A scenario that says its site holds (`slo_breaks: false`): the SLO held from the first fault to the end."""
    broke = slo_breach(scenario, record, slo_window)
    if broke.status is Status.SKIPPED:
        return Check("slo_holds", Status.SKIPPED, measured=broke.measured)
    slo = scenario.success.availability_min
    expected = f"availability >= {pct(slo)} over every {slo_window} s from the first fault to the end"
    lowest = dict(broke.figures).get("availability_lowest")
    shown = pct(float(lowest)) if isinstance(lowest, (int, float)) else pct(None)
    if broke.status is Status.PASSED:
        return Check("slo_holds", Status.FAILED, broke.seconds, expected,
                     f"the SLO broke: {broke.measured}", broke.figures)
    if lowest is None:
        return Check("slo_holds", Status.FAILED, broke.seconds, expected, "no probe data after the first fault",
                     broke.figures)
    return Check("slo_holds", Status.PASSED, broke.seconds, expected, f"held: lowest availability {shown}",
                 broke.figures)


def slo_breach(scenario: Scenario, record: DrillRecord, slo_window: int) -> Check:
    """The scenario's SLO broke after the first fault: there was an outage to recover from."""
    slo = scenario.success.availability_min
    expected = f"availability < {pct(slo)} over {slo_window} s after the first fault"
    starts = [offset for _, offset, _ in record.injected]
    if not starts:
        return skipped("slo_breach", "no fault was injected (see schedule)")
    first_fault = min(starts)
    lows = [w for w in windows(_between(record.seconds, first_fault, record.end_s + record.speed), slo_window)
            if w.availability is not None]
    breach = next((w for w in lows if (w.availability or 0.0) < slo), None)
    worst = min(lows, key=lambda w: w.availability or 0.0) if lows else None
    figures = (("availability_lowest", _r(worst.availability if worst else None)), ("slo", slo),
               ("breach_at_s", _r(breach.end_s if breach else None, 1)))
    if breach is None:
        return Check("slo_breach", Status.FAILED, 0.0, expected,
                     f"lowest availability {pct(worst.availability if worst else None)}: the SLO never broke",
                     figures).timed(_real(record.end_s - first_fault, record.speed))
    return Check("slo_breach", Status.PASSED, 0.0, expected,
                 f"broke at {_t(breach.end_s)} ({breach.end_s - first_fault:.0f} s after the first fault); "
                 f"lowest {pct(worst.availability if worst else None)}",
                 figures).timed(_real(breach.end_s - first_fault, record.speed))


def breach_at(check: Check) -> float | None:
    value = dict(check.figures).get("breach_at_s")
    return float(value) if isinstance(value, (int, float)) else None


def recovery(scenario: Scenario, record: DrillRecord, broke_at: float | None) -> Check:
    """The autopilot brought the site back within the scenario's time limit."""
    success = scenario.success
    causes = success.must_be_gone([step.id for step in scenario.faults])
    expected = (f"recovered within {scenario.time_limit_s:g} drill s (availability >= {pct(success.availability_min)} "
                f"held {success.slo_holds_s:g} s" + (f", causes gone: {', '.join(causes)})" if causes else ")"))
    if not scenario.slo_breaks:
        return _no_outage(scenario, record)
    if broke_at is None:
        return skipped("recovery", "the SLO never broke, so there was nothing to recover from (see slo_breach)")
    seconds = _real(record.end_s - broke_at, record.speed)
    figures = (("recovered_at_s", _r(record.recovered_s, 1)), ("time_limit_s", scenario.time_limit_s),
               ("outage_s", _r(record.recovered_s - broke_at if record.recovered_s is not None else None, 1)),
               ("outcome", record.outcome), ("availability_at_end", _r(record.end_availability)))
    if record.outcome == "recovered" and record.recovered_s is not None:
        return Check("recovery", Status.PASSED, 0.0, expected,
                     f"recovered at {_t(record.recovered_s)}, {record.recovered_s - broke_at:.0f} drill s after the SLO broke",
                     figures).timed(seconds)
    if record.outcome == "time_limit":
        measured = (f"not recovered at the time limit ({_t(record.end_s)}): availability "
                    f"{pct(record.end_availability)} over the last window")
        if causes and record.end_availability is not None and record.end_availability >= success.availability_min:
            measured += f"; the SLO held, so a named cause was still present ({', '.join(causes)})"
        return Check("recovery", Status.FAILED, 0.0, expected, measured, figures).timed(seconds)
    return Check("recovery", Status.ERROR, 0.0, expected, f"the drill ended as '{record.outcome}' at {_t(record.end_s)}",
                 figures).timed(seconds)


def _no_outage(scenario: Scenario, record: DrillRecord) -> Check:
    """The drill of a site that holds its SLO ends at the time limit: there was no outage to end."""
    expected = f"no outage: the drill runs to its time limit ({scenario.time_limit_s:g} drill s)"
    figures = (("outcome", record.outcome), ("time_limit_s", scenario.time_limit_s),
               ("availability_at_end", _r(record.end_availability)))
    seconds = _real(record.end_s, record.speed)
    if record.outcome == "time_limit":
        return Check("recovery", Status.PASSED, 0.0, expected,
                     f"ran to {_t(record.end_s)}, availability {pct(record.end_availability)} at the end",
                     figures).timed(seconds)
    if record.outcome == "recovered":
        return Check("recovery", Status.FAILED, 0.0, expected,
                     f"the drill saw an outage and its end at {_t(record.recovered_s)}", figures).timed(seconds)
    return Check("recovery", Status.ERROR, 0.0, expected, f"the drill ended as '{record.outcome}' at {_t(record.end_s)}",
                 figures).timed(seconds)


def autopilot_score(total: float, par: float, components: Sequence[tuple[str, float, float]],
                    seconds: float = 0.0) -> Check:
    """The autopilot's score card is at or above the scenario's par."""
    lost = [f"{key} {points:g}/{weight:g}" for key, points, weight in components if points < weight]
    figures: tuple[tuple[str, Figure], ...] = (("score", round(total, 1)), ("par", par),
                                               *((f"{key}_points", round(points, 1)) for key, points, _ in components))
    measured = f"{total:.1f}" + (f" (short: {', '.join(lost)})" if lost else "")
    status = Status.PASSED if total >= par else Status.FAILED
    return Check("autopilot_score", status, 0.0, f"score >= {par:g} (the scenario's par)", measured, figures).timed(seconds)


def wrong_turns(wrong: float, autopilot: float, outcome: str, speed: float, seconds: float = 0.0) -> Check:
    """The wrong-turns responder scores below the autopilot."""
    figures = (("score", round(wrong, 1)), ("autopilot_score", round(autopilot, 1)), ("outcome", outcome),
               ("speed", speed))
    status = Status.PASSED if wrong < autopilot else Status.FAILED
    return Check("wrong_turns", status, 0.0, f"a score below the autopilot's {autopilot:.1f}",
                 f"{wrong:.1f} (drill {outcome}, at speed {speed:g})", figures).timed(seconds)


def wrong_turns_speed(scenario: Scenario, speed: float, budget_s: float = WRONG_TURNS_BUDGET_S) -> float:
    """The speed of the wrong-turns drill: `speed`, or faster so that its script (the historical
    path, often hours long) ends within about `budget_s` real seconds."""
    if not scenario.wrong_turns:
        return speed
    latest = max(step.at_s for step in scenario.wrong_turns) + max(step.at_s for step in scenario.faults)
    return min(MAX_SPEED, max(speed, math.ceil(latest / budget_s)))
