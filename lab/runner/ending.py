"""How a drill with people ends, as in life: the team declares the incident resolved, the lab
watches a short relapse window, and the drill ends "resolved" or "resolved too early", with the
evidence. Pure: the drill measures, this module decides and words it.

    team's `resolve` ──▶ drill.resolving ──▶ each second: the SLO since the resolve, the causes
                                               │ SLO broken for a whole success window ──▶ resolved too early, at once
                                               └ window over ──▶ drill.resolved | drill.resolved_too_early

Scripted responders (autopilot, wrong turns) never say `resolve`: the drill ends them "recovered"
as soon as the SLO holds and the causes are gone. A people's drill notes that moment
(`drill.recovered`, for the facilitator) and waits for the team's word, or the time limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESOLVED = "resolved"
TOO_EARLY = "resolved_too_early"


@dataclass
class Resolution:
    """The team's declared resolution, and what the lab has seen since."""

    by: str
    event_id: int
    at_s: float  # drill time of the team's resolve
    until_s: float  # end of the relapse window (drill time)
    summary: str = ""
    slo_broken_at_s: float | None = None
    lowest: float | None = None  # the lowest availability over a success window since the resolve

    def saw(self, availability: float | None) -> None:
        if availability is not None:
            self.lowest = availability if self.lowest is None else min(self.lowest, availability)


def clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def verdict(resolution: Resolution, *, present: list[tuple[str, str]], missing: list[str],
            availability: float | None, slo_min: float) -> tuple[str, dict[str, Any]]:
    """(outcome, event data) at the end of the relapse window (or at a relapse).

    `present`: (fault step id, kind) whose cause is still there; `missing`: fault steps that had
    not happened yet; `availability`: the probe's since the resolve (None: no data)."""
    reasons = [f"the cause of '{step}' ({kind}) is still there" for step, kind in present]
    reasons += [f"fault '{step}' had not even happened yet" for step in missing]
    if resolution.slo_broken_at_s is not None:
        low = "" if resolution.lowest is None else f" to {resolution.lowest:.1%}"
        reasons.append(f"availability fell{low} (SLO {slo_min:.0%}) at t+{clock(resolution.slo_broken_at_s)}, "
                       "after the resolve")
    elif availability is not None and availability < slo_min:
        reasons.append(f"availability since the resolve was {availability:.1%} (SLO {slo_min:.0%})")
    data: dict[str, Any] = {
        "by": resolution.by, "resolve_event": resolution.event_id, "resolved_at_s": resolution.at_s,
        "availability": None if availability is None else round(availability, 4),
        "availability_min": None if resolution.lowest is None else round(resolution.lowest, 4),
        "slo": slo_min,
    }
    if not reasons:
        data["reason"] = (f"the SLO held ({'no data' if availability is None else f'{availability:.1%}'}) and "
                          f"every cause stayed gone until t+{clock(resolution.until_s)}")
        return RESOLVED, data
    data.update({"causes_present": [{"step": step, "kind": kind} for step, kind in present],
                 "not_happened": missing, "slo_broken": resolution.slo_broken_at_s is not None or (
                     availability is not None and availability < slo_min),
                 "reason": "; ".join(reasons)})
    return TOO_EARLY, data


def waiting(*, scripted: bool, resolution: Resolution | None, recovered_at_s: float | None, now_s: float,
            time_limit_s: float, slo_min: float, slo_holds_s: float,
            present: list[str] | None = None) -> tuple[str, str]:
    """(what the facilitator is told the drill waits for, what the team is told: may be "")."""
    limit = f"time limit t+{clock(time_limit_s)}"
    if resolution is not None:
        left = max(0.0, resolution.until_s - now_s)
        team = (f"{resolution.by} declared the incident resolved at t+{clock(resolution.at_s)}; the lab watches "
                f"until t+{clock(resolution.until_s)} ({left:.0f} drill s left) that the fix holds")
        still = f"; still present now: {', '.join(present)}" if present else "; no cause present now"
        return team + f" (SLO {slo_min:.0%}, causes gone){still}", team
    if scripted:
        return (f"waiting for the site to recover: availability >= {slo_min:.0%} for {slo_holds_s:g} drill s "
                f"with the causes gone ({limit})"), ""
    if recovered_at_s is not None:
        return (f"the site recovered at t+{clock(recovered_at_s)} (SLO held, causes gone); waiting for the team to "
                f"declare the incident resolved ({limit})"), ""
    return f"waiting for the team to fix the incident and declare it resolved ({limit})", ""
