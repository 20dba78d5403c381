"""Seeded variants: what a scenario lets vary between teams, and the concrete scenario one seed gives.

    scenario file ── variants: ──▶ choose(variants, faults, seed) ──▶ Variant (values, jitter, hint texts)
                                    (random.Random(seed): the same seed, the same variant)
                 ── apply(doc, variant) ──▶ the concrete scenario document (no `variants:`, `seed: N`)

Teams of one game day each get their own seed, so their faults match in kind but differ in detail
(the surge's factor, the leaked sessions' application name, the locked table, when each fault
starts, the hints' wording): the first team to find the cause cannot tell the room the answer. The
runbook and the scoring hold for every variant; `gameday verify --variants N` checks N seeds.

    variants:
      params:                                     # <fault id>.<param>: a range or choices
        surge.factor: {range: [3, 5]}             # a number in [lo, hi] (whole numbers when both are)
        leak.application_name: {choices: [arcade, arcade-jobs, arcade-cron]}
      jitter_s: 10                                # every fault starts 0-10 drill s later than written
      hints:                                      # other wordings of a hint, one chosen per seed
        idle-in-tx: ["Many sessions are idle in a transaction. Whose are they?", ...]

Pure: no clock, no file; the caller passes the parsed document and the seed.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_SEED = 2**31 - 1


class ParamVariant(BaseModel):
    """One fault parameter that varies: a range of numbers or a list of choices (exactly one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    range: tuple[float, float] | None = Field(None, description="[lo, hi]: a number between, whole when both are")
    choices: list[Any] | None = Field(None, min_length=2, max_length=100)

    @model_validator(mode="after")
    def _one_of(self) -> "ParamVariant":
        if (self.range is None) == (self.choices is None):
            raise ValueError("give exactly one of range: [lo, hi] or choices: [a, b, ...]")
        if self.range is not None and self.range[0] >= self.range[1]:
            raise ValueError(f"range: {self.range[0]:g} is not below {self.range[1]:g}")
        return self

    def candidates(self, whole: bool) -> list[Any]:
        """The values validation tries: both ends of a range, every choice."""
        if self.range is not None:
            lo, hi = self.range
            return [int(lo), int(hi)] if whole else [lo, hi]
        return list(self.choices or [])


class Variants(BaseModel):
    """What may vary between teams playing one scenario."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    params: dict[str, ParamVariant] = Field(default_factory=dict, description="<fault id>.<param>: range or choices")
    jitter_s: float = Field(0.0, ge=0, le=3600, description="each fault starts up to this many drill s later")
    hints: dict[str, list[str]] = Field(default_factory=dict, description="hint id: other wordings (one is chosen)")


@dataclass(frozen=True)
class Variant:
    """What one seed chose."""

    seed: int
    params: dict[str, Any] = field(default_factory=dict)  # "<fault id>.<param>": value
    jitter: dict[str, float] = field(default_factory=dict)  # fault id: drill s added to its at_s
    hints: dict[str, str] = field(default_factory=dict)  # hint id: the wording chosen

    def summary(self) -> dict[str, Any]:
        """The choices as recorded with a run (JSON-ready)."""
        return {"seed": self.seed, "params": dict(self.params), "jitter_s": dict(self.jitter),
                "hints": sorted(self.hints)}


def whole_range(spec: ParamVariant) -> bool:
    """A range of whole numbers (both ends written as integers) draws whole numbers."""
    return spec.range is not None and all(float(x).is_integer() for x in spec.range)


def choose(variants: Variants, fault_ids: list[str], seed: int) -> Variant:
    """The variant `seed` gives: every draw from one random.Random(seed), in a fixed order (params
    by key, then jitter by fault, then hints by id), so a seed always gives the same variant."""
    rnd = random.Random(seed)
    params: dict[str, Any] = {}
    for key in sorted(variants.params):
        spec = variants.params[key]
        if spec.range is not None:
            lo, hi = spec.range
            params[key] = rnd.randint(int(lo), int(hi)) if whole_range(spec) else round(rnd.uniform(lo, hi), 3)
        else:
            params[key] = rnd.choice(list(spec.choices or []))
    jitter = {fid: round(rnd.uniform(0, variants.jitter_s), 3) for fid in fault_ids} if variants.jitter_s else {}
    hints = {hid: rnd.choice(texts) for hid, texts in sorted(variants.hints.items()) if texts}
    return Variant(seed, params, jitter, hints)


def apply(doc: dict[str, Any], variant: Variant) -> dict[str, Any]:
    """The concrete scenario document: the chosen values written in, `variants:` replaced by `seed:`."""
    out = copy.deepcopy(doc)
    out.pop("variants", None)
    out["seed"] = variant.seed
    steps = {step.get("id"): step for step in out.get("faults", []) if isinstance(step, dict)}
    for key, value in variant.params.items():
        fault_id, _, param = key.partition(".")
        steps[fault_id].setdefault("params", {})[param] = value
    for fault_id, extra in variant.jitter.items():
        step = steps[fault_id]
        step["at_s"] = round(float(step.get("at_s", 0.0)) + extra, 3)
    for hint in out.get("hints", []):
        if isinstance(hint, dict) and hint.get("id") in variant.hints:
            hint["text"] = variant.hints[hint["id"]]
    return out


def seeds_for(base: int, count: int) -> list[int]:
    """`count` distinct seeds derived from `base` (an event's teams, `verify --variants N`)."""
    rnd = random.Random(base)
    seen: list[int] = []
    while len(seen) < count:
        seed = rnd.randint(1, MAX_SEED)
        if seed not in seen:
            seen.append(seed)
    return seen
