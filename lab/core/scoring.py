"""Score a drill: a pure function of the timeline, the runbook and the scenario.

    events + probe samples ──one pass──▶ step matches, red herrings, forbidden moves, comms
                 │                                   │
                 └──▶ impact (error budget burned) ──┴──▶ six components ──▶ ScoreCard
                                                          (points, evidence ids, one-line reasons)

Times count from the first alert (or the first fault, or the drill's start). Impact is measured by
the lab's probe only, never from what the team says. No clock, no files: same input, same card.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from operator import attrgetter
from typing import Any

from lab.core import acts
from lab.core.runbook import Match, Runbook, ScoringConfig, arguments
from lab.core.scenario import Scenario
from lab.core.timeline import Event, Source

RATINGS = ((0.9, "P"), (0.6, "S"), (0.3, "M"), (0.0, "U"))
RATING_MEANING = {"P": "performed without challenges", "S": "some challenges", "M": "major challenges",
                  "U": "unable to perform"}


@dataclass(frozen=True)
class Sample:
    """One probe measurement: requests sent and answered correctly around drill time `offset_s`."""

    offset_s: float
    total: int
    ok: int
    p95_s: float | None = None

    @property
    def failed_share(self) -> float:
        return 1.0 - self.ok / self.total if self.total else 0.0


@dataclass(frozen=True)
class Timeline:
    """What the scorer reads: the events and the probe's samples."""

    events: tuple[Event, ...] = ()
    samples: tuple[Sample, ...] = ()


@dataclass(frozen=True)
class Point:
    """Some points, out of `max`, with the events that earned or cost them."""

    points: float
    max: float
    reason: str
    evidence: tuple[int, ...] = ()


@dataclass(frozen=True)
class Component:
    """One part of the score (a capability), rated P/S/M/U."""

    key: str
    title: str
    weight: float
    points: float
    rating: str
    items: tuple[Point, ...]


@dataclass(frozen=True)
class Phases:
    """Drill seconds of the incident's milestones (None: never happened)."""

    origin_s: float | None = None
    ack_s: float | None = None
    diagnosis_s: float | None = None
    impact_start_s: float | None = None
    impact_end_s: float | None = None
    budget_s: float = 0.0


@dataclass(frozen=True)
class ScoreCard:
    """The score, its components, and what capped it."""

    total: float
    components: tuple[Component, ...]
    phases: Phases
    par_score: float
    cap: Point | None = None
    steps: tuple[tuple[str, int | None], ...] = ()
    herrings: tuple[tuple[str, int], ...] = ()
    ignored: int = 0
    deductions: tuple[Point, ...] = ()  # released hints, each at its cost
    caps: tuple[Point, ...] = ()  # every cap that applied (forbidden act, blind fix); `cap` is the lowest
    unmatched: tuple[tuple[int, str], ...] = ()  # notes naming a cause the runbook does not know: (event, words)
    judged: tuple[tuple[int, str], ...] = ()  # the facilitator's verdicts on such notes: (event, hypothesis or "rejected")

    @property
    def passed(self) -> bool:
        return self.total >= self.par_score

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["passed"] = self.passed
        return out


def score(timeline: Timeline, runbook: Runbook, scenario: Scenario, config: ScoringConfig | None = None) -> ScoreCard:
    """The score card of one drill; `config` overrides the runbook's weights and par."""
    cfg = config or _scenario_config(scenario) or runbook.scoring
    ctx = _Context.build(timeline, runbook, scenario, cfg)
    w = cfg.weights
    blind = _blind_fix(ctx)
    components = (
        _component("impact", "Impact on players (error budget)", w.impact, _impact(ctx)),
        _component("phase_times", "Phase times", w.phase_times, _phase_times(ctx)),
        _component("diagnosis", "Diagnosis quality", w.diagnosis, _diagnosis(ctx, blind),
                   worst_rating="U" if blind else None),
        _component("adherence", "Runbook adherence", w.adherence, _adherence(ctx)),
        _component("coordination", "Coordination and communication", w.coordination, _coordination(ctx)),
        _component("learning", "Learning (postmortem draft)", w.learning, _learning(ctx)),
    )
    deductions = tuple(_hint_cost(e) for e in ctx.hints)
    total = round(max(0.0, sum(c.points for c in components) - sum(-d.points for d in deductions)), 1)
    caps: list[Point] = []
    if ctx.forbidden:
        ids = tuple(e.id for _, e in ctx.forbidden)
        names = ", ".join(sorted({f for f, _ in ctx.forbidden}))
        caps.append(Point(cfg.forbidden_cap, 100, f"forbidden action ({names}): score capped at {cfg.forbidden_cap:g}", ids))
    if blind is not None:
        caps.append(Point(cfg.blind_fix_cap, 100, f"blind fix: {blind.kind} came with no evidence gathered before it "
                                                  f"and no diagnosis named at any point (lucky, not capable): score "
                                                  f"capped at {cfg.blind_fix_cap:g}", (blind.id,)))
    cap = min(caps, key=lambda c: c.points) if caps else None
    if cap is not None:
        total = min(total, cap.points)
    return ScoreCard(
        total=total, components=components, phases=ctx.phases, par_score=scenario.par_score, cap=cap,
        steps=tuple((s.id, ctx.step_event[s.id].id if s.id in ctx.step_event else None) for s in runbook.steps),
        herrings=tuple((h, e.id) for h, e in ctx.herrings), ignored=ctx.ignored, deductions=deductions,
        caps=tuple(caps), unmatched=tuple(ctx.unmatched), judged=tuple(sorted(ctx.judged.items())),
    )


def _hint_cost(event: Event) -> Point:
    cost = event.data.get("cost")
    points = float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else 0.0
    return Point(-points, 0, f"hint '{event.data.get('id')}' released: -{points:g}", (event.id,))


def _scenario_config(scenario: Scenario) -> ScoringConfig | None:
    """A scenario's own `scoring:` block, when its model carries one."""
    value = getattr(scenario, "scoring", None)
    return value if isinstance(value, ScoringConfig) else None


# --- the one pass over the timeline ------------------------------------------------------------

KNOWN_PREFIXES = ("action.", "alert.", "fault.", "drill.", "steady_state.", "hint.", "shell.", "diagnosis.")
UNEXPLAINED = "unexplained-change"
UNEXPLAINED_HARM = "a change with no hypothesis noted before it: nobody can tell why it was made, or undo it knowingly"
KNOWN_KINDS = {"ack", "role", "update", "note", "escalate", "resolve"}


@dataclass
class _Context:
    runbook: Runbook
    scenario: Scenario
    cfg: ScoringConfig
    events: list[Event]
    samples: list[Sample]
    phases: Phases
    step_event: dict[str, Event]
    order_violations: list[tuple[str, str, Event]]
    herrings: list[tuple[str, Event]]
    forbidden: list[tuple[str, Event]]
    evidence_times: list[float]
    ignored: int
    cum: list[float]  # budget burned before each sample (prefix sums)
    offsets: list[float]
    matches: dict[str, list[Event]]
    by_kind: dict[str, list[Event]]  # known events in time order; team kinds hold team events only
    named: dict[int, str]  # note id -> the hypothesis it names (the runbook's vocabulary, or the facilitator's verdict)
    unmatched: list[tuple[int, str]]
    judged: dict[int, str]
    hints: list[Event]
    speed: float
    acts: dict[int, acts.Act]
    widths: list[float]

    def kind(self, kind: str) -> list[Event]:
        return self.by_kind.get(kind, [])

    @classmethod
    def build(cls, timeline: Timeline, runbook: Runbook, scenario: Scenario, cfg: ScoringConfig) -> _Context:
        events = sorted(timeline.events, key=attrgetter("id"))  # two stable sorts: time, then id within a time
        events.sort(key=attrgetter("offset_s"))
        samples = sorted((s for s in timeline.samples if s.total > 0), key=lambda s: s.offset_s)
        widths = _widths(samples)
        cum = [0.0]
        for s, width in zip(samples, widths):
            cum.append(cum[-1] + s.failed_share * width)
        judged = _verdicts(events)
        scan = _scan(events, runbook, cfg, judged)
        matches, herrings, forbidden, ignored, by_kind = scan.matches, scan.herrings, scan.forbidden, scan.ignored, scan.by_kind
        step_event, violations = _resolve_steps(runbook, matches)
        evidence_ids = {s.id for s in runbook.steps if s.evidence}
        evidence_times = sorted(e.offset_s for sid in evidence_ids for e in matches.get(sid, []))
        started = next(iter(by_kind.get("drill.started", [])), None)
        speed = started.data.get("speed") if started is not None else None
        ctx = cls(runbook, scenario, cfg, events, samples, Phases(), step_event, violations, herrings, forbidden,
                  evidence_times, ignored, cum, [s.offset_s for s in samples], matches, by_kind, scan.named,
                  scan.unmatched, judged, by_kind.get("hint.released", []),
                  float(speed) if isinstance(speed, (int, float)) and speed > 0 else 1.0, scan.acts, widths)
        ctx.phases = ctx._phases(matches)
        return ctx

    def _phases(self, matches: dict[str, list[Event]]) -> Phases:
        origin = next((self.kind(k)[0] for k in ("alert.firing", "fault.injected", "drill.started") if self.kind(k)), None)
        ack = next(iter(self.kind("ack")), None)
        diag = None
        if self.runbook.diagnosis:
            evidence = sorted(e.offset_s for sid in self.runbook.diagnosis.evidence for e in matches.get(sid, []))
            tags = set(self.runbook.diagnosis.hypotheses)
            for e in self.kind("note"):
                if self.named.get(e.id) in tags and evidence and evidence[0] <= e.offset_s:
                    diag = e
                    break
        bad = self.scenario.success.availability_min
        start = end = None
        for i, s in enumerate(self.samples):
            if s.ok / s.total < bad:
                if start is None:
                    start = s.offset_s
                end = None
            elif start is not None and end is None:
                end = s.offset_s
        if start is not None and end is None and self.samples[-1].ok / self.samples[-1].total >= bad:
            end = self.samples[-1].offset_s
        return Phases(
            origin_s=origin.offset_s if origin else None, ack_s=ack.offset_s if ack else None,
            diagnosis_s=diag.offset_s if diag else None, impact_start_s=start, impact_end_s=end,
            budget_s=round(self.cum[-1], 1),
        )

    def burned(self, start: float, end: float) -> float:
        """Outage-seconds burned between drill times `start` and `end` (whole samples)."""
        i, j = bisect_left(self.offsets, start), bisect_left(self.offsets, end)
        return self.cum[j] - self.cum[i] if j > i else 0.0


def _first(events: Iterable[Event], pred: Any) -> Event | None:
    return next((e for e in events if pred(e)), None)


def _widths(samples: list[Sample]) -> list[float]:
    """Each sample stands for the drill time until the next one (the last: as long as the one before)."""
    widths = [b.offset_s - a.offset_s for a, b in zip(samples, samples[1:])]
    if samples:
        widths.append(widths[-1] if widths else 1.0)
    return widths


class _Table:
    """Predicates by the event kinds they can match, so each event meets only its candidates."""

    def __init__(self, predicates: list[tuple[str, Match]]):
        self.by_kind: dict[str, list[tuple[str, Match]]] = defaultdict(list)
        self.anywhere: list[tuple[str, Match]] = []
        self.commands: list[tuple[str, Match]] = []  # any kind, but only events that carry a command
        for name, match in predicates:
            kinds = match.kinds()
            if kinds is not None:
                for kind in kinds:
                    self.by_kind[kind].append((name, match))
            elif match.command is not None:
                self.commands.append((name, match))
            else:
                self.anywhere.append((name, match))
        self.cache: dict[tuple[str, bool], list[tuple[str, Match]]] = {}

    def candidates(self, event: Event) -> list[tuple[str, Match]]:
        key = (event.kind, "command" in event.data)
        found = self.cache.get(key)
        if found is None:
            found = self.by_kind.get(event.kind, []) + self.anywhere + (self.commands if key[1] else [])
            self.cache[key] = found
        return found


@dataclass
class _Scan:
    matches: dict[str, list[Event]]
    herrings: list[tuple[str, Event]]
    forbidden: list[tuple[str, Event]]
    ignored: int
    by_kind: dict[str, list[Event]]
    named: dict[int, str]
    unmatched: list[tuple[int, str]]
    acts: dict[int, acts.Act]  # event id -> what a team or observed event amounts to


def _verdicts(events: list[Event]) -> dict[int, str]:
    """The facilitator's verdicts on notes the vocabulary did not place: note id -> hypothesis or "rejected"."""
    out: dict[int, str] = {}
    for e in events:
        if e.kind in ("diagnosis.accepted", "diagnosis.rejected") and isinstance(e.data.get("event"), int):
            out[e.data["event"]] = str(e.data.get("hypothesis") or "") if e.kind == "diagnosis.accepted" else "rejected"
    return out


def _scan(events: list[Event], runbook: Runbook, cfg: ScoringConfig, judged: dict[int, str]) -> _Scan:
    """One pass: which steps, red herrings and forbidden moves each event matches, compared on what
    the event amounts to (lab.core.acts) and on the hypothesis a note names in the runbook's words."""
    steps = _Table([(s.id, m) for s in runbook.steps for m in s.predicates()])
    herr = _Table([(a.id, a.match) for a in runbook.anti_patterns])
    forb = _Table([(f.id, f.match) for f in runbook.forbidden])
    correct = runbook.diagnosis.hypotheses[0] if runbook.diagnosis else None
    out = _Scan(defaultdict(list), [], [], 0, defaultdict(list), {}, [], {})
    team, observer = Source.TEAM, Source.OBSERVER
    known_kinds: dict[str, bool] = {}
    hypothesis_noted = False
    names: dict[tuple[str, str], str | None] = {}  # (tag, text) -> hypothesis: notes repeat
    for e in events:
        known = known_kinds.get(e.kind)
        if known is None:
            known = known_kinds[e.kind] = e.kind in KNOWN_KINDS or e.kind.startswith(KNOWN_PREFIXES)
        if not known and e.source is not observer:
            out.ignored += 1  # observers report what they see (db.restarted, web.scaled, ...): never ignored
            continue
        if e.source is not team and e.source is not observer:
            if e.kind not in KNOWN_KINDS:
                out.by_kind[e.kind].append(e)
            continue
        if e.source is team:
            out.by_kind[e.kind].append(e)
        act = acts.act_of(e)
        if act is not None:
            out.acts[e.id] = act
        named = None
        if e.kind == "note":
            args = arguments(e)
            verdict = judged.get(e.id)
            if verdict == "rejected":
                named = None
            elif verdict is not None:
                named = verdict or correct
            else:
                key = (str(args.get("hypothesis") or ""), str(args.get("text") or ""))
                if key not in names:
                    names[key] = runbook.names(*key)
                named = names[key]
                if named is None and args.get("hypothesis"):
                    out.unmatched.append((e.id, str(args.get("hypothesis"))))
            if named is not None:
                out.named[e.id] = named
                hypothesis_noted = True
        seen: set[str] = set()
        for name, m in steps.candidates(e):
            if name not in seen and m.matches(e, act, named):
                seen.add(name)
                out.matches[name].append(e)
        herring = next((name for name, m in herr.candidates(e) if m.matches(e, act, named)), None)
        if herring is None and cfg.unexplained_changes and act is not None and act.changes and not hypothesis_noted:
            herring = UNEXPLAINED
        if herring is not None:
            out.herrings.append((herring, e))
        for name, m in forb.candidates(e):
            if m.matches(e, act, named):
                out.forbidden.append((name, e))
                break
    return out


def _resolve_steps(runbook: Runbook, matches: dict[str, list[Event]]) -> tuple[dict[str, Event], list[tuple[str, str, Event]]]:
    """Each step's event: the first match after its `after` steps (else the first match, out of order)."""
    chosen: dict[str, Event] = {}
    violations: list[tuple[str, str, Event]] = []
    pending = list(runbook.steps)
    while pending:  # `after` has no cycles (validated), so each round settles at least one step
        rest = []
        for step in pending:
            if any(ref not in chosen and matches.get(ref) for ref in step.after):
                rest.append(step)
                continue
            found = matches.get(step.id, [])
            if not found:
                continue
            floor = max((chosen[ref].offset_s for ref in step.after if ref in chosen), default=float("-inf"))
            in_order = next((e for e in found if e.offset_s >= floor), None)
            if in_order is None and not step.required:
                continue  # an optional step only counts in its place
            chosen[step.id] = in_order or found[0]
            if in_order is None:
                late = max((ref for ref in step.after if ref in chosen), key=lambda r: chosen[r].offset_s)
                violations.append((step.id, late, found[0]))
        if len(rest) == len(pending):
            break
        pending = rest
    return chosen, violations


# --- components ----------------------------------------------------------------------------------

def _component(key: str, title: str, weight: float, items: list[Point], worst_rating: str | None = None) -> Component:
    """Scale the items' points to the component's weight and rate it (no better than `worst_rating`)."""
    most = sum(p.max for p in items)
    scale = weight / most if most else 0.0
    scaled = tuple(Point(round(p.points * scale, 2), round(p.max * scale, 2), p.reason, p.evidence) for p in items)
    points = round(sum(p.points for p in scaled), 2)
    share = points / weight if weight else 1.0
    rating = next(r for limit, r in RATINGS if share >= limit)
    if worst_rating is not None:
        order = [r for _, r in RATINGS]
        rating = order[max(order.index(rating), order.index(worst_rating))]
    return Component(key, title, weight, points, rating, scaled)


def _linear(value: float | None, par: float, worst: float) -> float:
    """1 at or under par, 0 at or beyond worst (and when it never happened), linear between."""
    if value is None:
        return 0.0
    if value <= par:
        return 1.0
    if worst <= par or value >= worst:
        return 0.0
    return (worst - value) / (worst - par)


def _mmss(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s" if seconds >= 60 else f"{seconds:.0f} s"


FIX_WINDOW_S = 30.0  # drill seconds after a restart in which failures beyond the fault's own are the fix's


def _impact(ctx: _Context) -> list[Point]:
    if not ctx.samples:
        return [Point(0, 1, "no probe measurements: the impact on players cannot be shown")]
    par, worst = ctx.cfg.par.impact_s, ctx.scenario.time_limit_s
    cost, restarts, dropped = _fix_cost(ctx)
    budget = max(0.0, ctx.phases.budget_s - cost)
    share = _linear(budget, par, worst)
    reason = (f"the fault: {_mmss(budget)} of full outage burned (par {_mmss(par)}, zero at {_mmss(worst)}); "
              f"measured by the probe over {len(ctx.samples)} samples")
    items = [Point(4 * share, 4, reason)]
    if not restarts:
        items.append(Point(1, 1, "what the fix cost: no restart by the team, nothing dropped by the response"))
    else:
        sessions = f"; {dropped} database session(s) dropped" if dropped else ""
        items.append(Point(_linear(cost, 0.0, par), 1,
                           f"what the fix cost: {len(restarts)} restart(s) by the team failed {_mmss(cost)} of "
                           f"requests beyond the fault's own (probe, {FIX_WINDOW_S:g} s after each){sessions}",
                           tuple(e.id for e in restarts)))
    return items


def _fix_cost(ctx: _Context) -> tuple[float, list[Event], int]:
    """Outage-seconds the team's own restarts caused (failures in the window after each, beyond the
    share failing just before it), the restarts, and the database sessions they dropped."""
    by_id = {e.id: e for e in ctx.events} if ctx.acts else {}
    restarts = sorted((by_id[i] for i, a in ctx.acts.items() if a.action == "restart" and i in by_id),
                      key=attrgetter("offset_s"))
    cost, dropped, covered_until = 0.0, 0, float("-inf")
    for e in restarts:
        raw = e.data.get("result")
        result: dict[str, Any] = raw if isinstance(raw, dict) else {}
        took = e.data.get("duration_s")
        window = max(FIX_WINDOW_S, float(took) * ctx.speed if isinstance(took, (int, float)) else 0.0)
        start, end = max(e.offset_s, covered_until), e.offset_s + window
        covered_until = max(covered_until, end)
        sessions = result.get("sessions_dropped")
        dropped += int(sessions) if isinstance(sessions, int) else 0
        if end <= start:
            continue
        i = bisect_left(ctx.offsets, e.offset_s)
        before = [s.failed_share for s in ctx.samples[max(0, i - 5):i]]
        baseline = sum(before) / len(before) if before else 0.0
        j, k = bisect_left(ctx.offsets, start), bisect_left(ctx.offsets, end)
        cost += sum(max(0.0, ctx.samples[n].failed_share - baseline) * ctx.widths[n] for n in range(j, k))
    return round(cost, 1), restarts, dropped


def _phase_times(ctx: _Context) -> list[Point]:
    ph, par, worst = ctx.phases, ctx.cfg.par, ctx.scenario.time_limit_s
    origin = ph.origin_s
    ack = None if ph.ack_s is None or origin is None else ph.ack_s - origin
    diag = None if ph.diagnosis_s is None or origin is None else ph.diagnosis_s - origin
    impact = None if ph.impact_end_s is None or ph.impact_start_s is None else ph.impact_end_s - ph.impact_start_s
    ack_ev = _ids(ctx, ph.ack_s, "ack")
    diag_ev = _ids(ctx, ph.diagnosis_s, "note")
    return [
        Point(6 * _linear(ack, par.ack_s, worst), 6, f"alert to acknowledgement: {_mmss(ack)} (par {_mmss(par.ack_s)})", ack_ev),
        Point(7 * _linear(diag, par.diagnosis_s, worst), 7,
              f"alert to the correct diagnosis backed by evidence: {_mmss(diag)} (par {_mmss(par.diagnosis_s)})", diag_ev),
        Point(7 * _linear(impact, par.mitigation_s, worst), 7,
              f"players affected (probe) for {_mmss(impact)} before it ended (par {_mmss(par.mitigation_s)})"
              if ph.impact_start_s is not None else "the probe never saw players affected, or never saw it end"),
    ]


def _ids(ctx: _Context, at: float | None, kind: str) -> tuple[int, ...]:
    if at is None:
        return ()
    found = _first(ctx.kind(kind), lambda e: e.offset_s == at)
    return (found.id,) if found else ()


def _blind_fix(ctx: _Context) -> Event | None:
    """The team's first fix when it came with no evidence gathered before it and no diagnosis named at
    any point (whatever the evidence); None when the fix was informed, or there was none."""
    fixes = [ctx.step_event[s.id] for s in ctx.runbook.steps if s.mitigation and s.id in ctx.step_event]
    if not fixes:
        return None
    first = min(fixes, key=attrgetter("offset_s"))
    informed = ctx.evidence_times and ctx.evidence_times[0] <= first.offset_s
    tags = set(ctx.runbook.diagnosis.hypotheses) if ctx.runbook.diagnosis else set()
    named = any(h in tags for h in ctx.named.values())
    return None if informed or named else first


def harm_of(runbook: Runbook, name: str) -> str:
    """What a red herring costs, in one line (the runbook's anti-pattern, or the built-in unexplained change)."""
    if name == UNEXPLAINED:
        return UNEXPLAINED_HARM
    return next((a.harm for a in runbook.anti_patterns if a.id == name), "")


def _diagnosis(ctx: _Context, blind: Event | None = None) -> list[Point]:
    total = ctx.phases.budget_s
    windows = _herring_windows(ctx)
    burned = _union_burn(ctx, [(s, e) for _, s, e, _ in windows])
    share = burned / total if total > 0 else 0.0
    names = sorted({name for name, *_ in windows})
    ids = tuple(ev.id for _, ev in ctx.herrings)
    herring_pts = max(0.0, 10 * (1 - share) - 2 * len(ctx.herrings))
    if ctx.herrings:
        first = harm_of(ctx.runbook, names[0])
        reason = (f"{len(ctx.herrings)} red herring(s) ({', '.join(names)}) pursued while {_mmss(burned)} of outage "
                  f"({share:.0%} of the total) burned; {names[0]}: {first}")
    else:
        reason = "no red herrings pursued"
    items = [Point(herring_pts if ctx.events else 0.0, 10, reason if ctx.events else "nothing recorded", ids)]
    first_change = _first(ctx.events, lambda e: _changes(ctx, e) and not _is_evidence(ctx, e))
    if first_change is None:
        items.append(Point(0, 5, "no change was made to the system"))
    elif ctx.evidence_times and ctx.evidence_times[0] <= first_change.offset_s:
        items.append(Point(5, 5, f"evidence gathered before the first change ({first_change.kind})", (first_change.id,)))
    else:
        items.append(Point(0, 5, f"first change ({first_change.kind}) made before any evidence was gathered",
                           (first_change.id,)))
    if blind is not None:
        items.append(Point(0, 0, f"a blind fix ({blind.kind}): nothing looked at before it and no cause named at any "
                                 "point, so this component is rated U whatever its points", (blind.id,)))
    if ctx.unmatched:
        items.append(Point(0, 0, "hypotheses the runbook does not know, for the facilitator to accept or reject "
                                 "(`gameday score --accept EVENT`): "
                                 + "; ".join(f"#{i} '{words}'" for i, words in ctx.unmatched),
                           tuple(i for i, _ in ctx.unmatched)))
    return items


def _changes(ctx: _Context, event: Event) -> bool:
    """A change to the system by the team or by hand (whatever the channel)."""
    act = ctx.acts.get(event.id)
    return act is not None and act.changes


def _is_evidence(ctx: _Context, event: Event) -> bool:
    act = ctx.acts.get(event.id)
    if act is not None and not act.changes:
        return True
    return any(m.matches(event, act) for s in ctx.runbook.steps if s.evidence for m in s.predicates())


def _herring_windows(ctx: _Context) -> list[tuple[str, float, float, Event]]:
    """Each red herring is pursued until the team's next required or evidence step (or the impact's end)."""
    useful = sorted(e.offset_s for s in ctx.runbook.steps if s.required or s.evidence
                    for e in _step_matches(ctx, s.id))
    end_of_impact = ctx.phases.impact_end_s if ctx.phases.impact_end_s is not None else float("inf")
    out = []
    for name, ev in ctx.herrings:
        i = bisect_left(useful, ev.offset_s + 1e-9)
        end = min(useful[i] if i < len(useful) else float("inf"), end_of_impact)
        out.append((name, ev.offset_s, max(end, ev.offset_s), ev))
    return out


def _step_matches(ctx: _Context, step_id: str) -> list[Event]:
    return ctx.matches.get(step_id, [])


def _union_burn(ctx: _Context, windows: list[tuple[float, float]]) -> float:
    burned, cur_start, cur_end = 0.0, None, None
    for start, end in sorted(windows):
        if cur_end is not None and start <= cur_end:
            cur_end = max(cur_end, end)
            continue
        if cur_start is not None and cur_end is not None:
            burned += ctx.burned(cur_start, cur_end)
        cur_start, cur_end = start, end
    if cur_start is not None and cur_end is not None:
        burned += ctx.burned(cur_start, cur_end)
    return burned


def _adherence(ctx: _Context) -> list[Point]:
    steps = ctx.runbook.steps
    required = [s for s in steps if s.required]
    covered = [s for s in required if s.id in ctx.step_event]
    missing = [s.id for s in required if s.id not in ctx.step_event]
    items = [Point(10 * len(covered) / len(required) if required else 10, 10,
                   f"{len(covered)}/{len(required)} required steps done" + (f"; missing: {', '.join(missing)}" if missing else ""),
                   tuple(ctx.step_event[s.id].id for s in covered))]
    edges = [(s.id, ref) for s in steps if s.id in ctx.step_event for ref in s.after if ref in ctx.step_event]
    bad = ctx.order_violations
    items.append(Point(5 * (1 - len(bad) / len(edges)) if edges else 0.0, 5,
                       "steps in the runbook's order" if edges and not bad else
                       "no ordered steps done" if not edges else
                       "; ".join(f"{s} before {ref}" for s, ref, _ in bad),
                       tuple(e.id for *_, e in bad)))
    origin = ctx.phases.origin_s
    timed = [s for s in required if s.target_s is not None]
    late = [s for s in timed if s.id not in ctx.step_event or origin is None
            or ctx.step_event[s.id].offset_s - origin > (s.target_s or 0)]
    items.append(Point(5 * (1 - len(late) / len(timed)) if timed and ctx.step_event else 0.0, 5,
                       f"{len(timed) - len(late)}/{len(timed)} timed steps on target"
                       + (f"; late or missing: {', '.join(s.id for s in late)}" if late else ""),
                       tuple(ctx.step_event[s.id].id for s in late if s.id in ctx.step_event)))
    if ctx.forbidden:
        items = [Point(0, p.max, p.reason, p.evidence) for p in items]
        items.append(Point(0, 0, f"forbidden: {', '.join(n for n, _ in ctx.forbidden)}; adherence counts zero",
                           tuple(e.id for _, e in ctx.forbidden)))
    return items


def _coordination(ctx: _Context) -> list[Point]:
    comms = ctx.runbook.comms
    origin, ack = ctx.phases.origin_s, ctx.phases.ack_s
    ic = _first(ctx.kind("role"), lambda e: arguments(e).get("role") == "IC")
    internal = [e for e in ctx.kind("update") if arguments(e).get("audience") == "internal"]
    external = [e for e in ctx.kind("update") if arguments(e).get("audience") == "external"]
    items = []
    if ic is None:
        items.append(Point(0, 5, "no incident commander named"))
    else:
        late = ic.offset_s - (ack if ack is not None else ic.offset_s)
        ok = late <= comms.ic_within_s
        items.append(Point(5 if ok else 2, 5, f"incident commander named {_mmss(late)} after the acknowledgement"
                           + ("" if ok else f" (expected within {_mmss(comms.ic_within_s)})"), (ic.id,)))
    if not internal or origin is None:
        items.append(Point(0, 3, "no internal update"))
    else:
        late = internal[0].offset_s - origin
        ok = late <= comms.first_internal_within_s
        items.append(Point(3 if ok else 1, 3, f"first internal update {_mmss(late)} after the alert"
                           + ("" if ok else f" (expected within {_mmss(comms.first_internal_within_s)})"), (internal[0].id,)))
    end = ctx.phases.impact_end_s
    if origin is None or not internal:
        items.append(Point(0, 3, "no update cadence"))
    else:
        stop = end if end is not None else ctx.events[-1].offset_s
        times = [e.offset_s for e in internal if e.offset_s <= stop] or [internal[0].offset_s]
        gaps = [b - a for a, b in zip([origin, *times], [*times, stop])]
        worst = max(gaps)
        ok = worst <= comms.internal_every_s + comms.first_internal_within_s
        items.append(Point(3 if ok else 3 * comms.internal_every_s / worst, 3,
                           f"longest silence while players were affected: {_mmss(worst)} (cadence {_mmss(comms.internal_every_s)})",
                           tuple(e.id for e in internal)))
    affected = None if ctx.phases.impact_start_s is None else (end if end is not None else float("inf")) - ctx.phases.impact_start_s
    if external and origin is not None:
        late = external[0].offset_s - origin
        ok = late <= comms.first_external_within_s or (affected is not None and affected <= comms.first_external_within_s)
        items.append(Point(2 if ok else 1, 2, f"external update {_mmss(late)} after the alert", (external[0].id,)))
    elif ack is not None and affected is not None and affected <= comms.first_external_within_s:
        items.append(Point(2, 2, f"no external update needed: players affected for {_mmss(affected)}"))
    else:
        items.append(Point(0, 2, "players were never told"))
    pattern = comms.next_update_pattern
    said = [e for e in internal if re.search(pattern, str(arguments(e).get("text") or ""), re.I)]
    items.append(Point(2 if said else 0, 2, "updates say when the next one comes" if said
                       else "no update says when the next one comes", tuple(e.id for e in said[:1])))
    ending = _first(reversed(ctx.events), lambda e: e.kind in ("drill.resolved", "drill.resolved_too_early"))
    if ending is not None:  # a people's drill: the team's resolve, judged over the relapse window
        held = ending.kind == "drill.resolved"
        reason = str(ending.data.get("reason") or "")
        items.append(Point(3 if held else 0, 3, ("declared resolved, and the fix held through the relapse window"
                                                 if held else f"declared resolved too early: {reason}"),
                           tuple(i for i in (ending.data.get("resolve_event"), ending.id) if isinstance(i, int))))
    return items


def _learning(ctx: _Context) -> list[Point]:
    todos = [e for e in ctx.kind("note") if "TODO:" in str(arguments(e).get("text") or "")]
    diag = ctx.phases.diagnosis_s
    mitigated = [ctx.step_event[s.id] for s in ctx.runbook.steps if s.mitigation and s.id in ctx.step_event]
    return [
        Point(2 if diag is not None else 0, 2, "root cause written down as a hypothesis"
              if diag is not None else "no root cause recorded for the postmortem", _ids(ctx, diag, "note")),
        Point(1 if mitigated else 0, 1, "resolution on the timeline" if mitigated else "no resolution recorded",
              tuple(e.id for e in mitigated)),
        Point(2 if todos else 0, 2, f"{len(todos)} follow-up(s) noted with TODO:" if todos
              else "no TODO: follow-ups noted for the postmortem", tuple(e.id for e in todos)),
    ]
