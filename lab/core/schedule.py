"""The drill's schedule as a pure function: what is due now, given what has happened.

    due(scenario, steps, now_s, happened, done) -> [Due(...)]

Times are drill seconds (the runner's clock, possibly compressed by --speed). `happened` maps
"fault:<id>" to when that fault was injected and "alert:<Name>" to when the alert first fired;
a step with `after` is due `at_s` seconds after that moment, and never before it happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lab.core.scenario import FaultStep, ResponderStep, Scenario


@dataclass(frozen=True)
class Due:
    """One thing the runner should do now. `key` is unique and goes into `done` once done."""

    key: str
    kind: str  # "inject", "revert", "respond", "hint"
    index: int
    at_s: float


def _anchor(after: str | None, happened: Mapping[str, float]) -> float | None:
    """Drill time the step counts from: 0, or when its `after` happened (None: not yet)."""
    if after is None:
        return 0.0
    key = after if ":" in after else f"fault:{after}"
    return happened.get(key)


def due(
    scenario: Scenario,
    responder: Sequence[ResponderStep],
    now_s: float,
    happened: Mapping[str, float],
    done: frozenset[str] | set[str],
) -> list[Due]:
    """Everything due at `now_s` and not yet done, in time order (ties: faults, then reverts,
    then responder steps, then hints, each in file order)."""
    out: list[Due] = []
    for i, step in enumerate(scenario.faults):
        start = _step_time(step, happened)
        if start is not None and start <= now_s and f"inject:{step.id}" not in done:
            out.append(Due(f"inject:{step.id}", "inject", i, start))
        if step.duration_s is not None and f"fault:{step.id}" in happened:
            end = happened[f"fault:{step.id}"] + step.duration_s
            if end <= now_s and f"revert:{step.id}" not in done:
                out.append(Due(f"revert:{step.id}", "revert", i, end))
    for i, r in enumerate(responder):
        anchor = _anchor(r.after, happened)
        if anchor is not None and anchor + r.at_s <= now_s and f"respond:{i}" not in done:
            out.append(Due(f"respond:{i}", "respond", i, anchor + r.at_s))
    for i, hint in enumerate(scenario.hints):
        if hint.at_s is not None and hint.at_s <= now_s and f"hint:{hint.id}" not in done:
            out.append(Due(f"hint:{hint.id}", "hint", i, hint.at_s))
    order = {"inject": 0, "revert": 1, "respond": 2, "hint": 3}
    return sorted(out, key=lambda d: (d.at_s, order[d.kind], d.index))


def _step_time(step: FaultStep, happened: Mapping[str, float]) -> float | None:
    anchor = _anchor(step.after, happened)
    return None if anchor is None else anchor + step.at_s


def scale_durations(params: Mapping[str, object], speed: float) -> dict[str, object]:
    """Fault parameters ending in `_s` are drill-time durations: compress them by `speed`."""
    return {k: (v / speed if k.endswith("_s") and isinstance(v, (int, float)) else v) for k, v in params.items()}
