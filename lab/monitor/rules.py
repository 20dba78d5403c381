"""Alert rules with `for:` durations, evaluated as a pure function of (rules, states, signals, time).

    value breaches? ──no──▶ inactive            (a firing alert resolves: event `resolved`)
        │ yes
        ▼
    pending since t ──held for `for_s`──▶ firing (event `firing`)

A signal with no value this second (None) leaves every state as it was: no data neither fires
nor resolves an alert. Rules are data; a scenario overrides fields by name
(`{"DbConnectionsSaturated": {"enabled": false}}`) or adds rules of its own.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, fields, replace
from enum import Enum
from typing import Any

from lab.monitor.signals import SIGNALS


class RuleError(ValueError):
    """A rule or an override names an unknown field or a bad value (one line)."""


OPS = {"<": lambda v, t: v < t, ">": lambda v, t: v > t, "<=": lambda v, t: v <= t, ">=": lambda v, t: v >= t}


@dataclass(frozen=True)
class AlertRule:
    """Fire `name` when `signal op threshold` holds for `for_s` seconds."""

    name: str
    signal: str
    op: str
    threshold: float
    for_s: float
    summary: str = ""
    severity: str = "page"
    enabled: bool = True

    def breached(self, value: float) -> bool:
        return bool(OPS[self.op](value, self.threshold))


def default_rules(latency_threshold_s: float = 1.0) -> tuple[AlertRule, ...]:
    """The lab's alerts: availability, p95 latency, DB connection saturation."""
    return (
        AlertRule("SiteAvailabilityLow", "availability", "<", 0.99, 15.0,
                  "the probe sees fewer than 99 % of requests succeed"),
        AlertRule("SiteLatencyHigh", "latency_p95_s", ">", latency_threshold_s, 15.0,
                  f"the probe's p95 latency is above {latency_threshold_s:g} s"),
        AlertRule("DbConnectionsSaturated", "db_connections_ratio", ">", 0.9, 15.0,
                  "more than 90 % of the connection slots ordinary roles may use are taken"),
    )


_FIELD_NAMES = {"for": "for_s"}  # YAML-friendly spelling


def _coerce(rule_name: str, key: str, value: Any) -> Any:
    where = f"rules.{rule_name}.{key}"
    if key == "signal":
        if value not in SIGNALS:
            close = difflib.get_close_matches(str(value), SIGNALS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(SIGNALS)}"
            raise RuleError(f"{where}: unknown signal {value!r}; {hint}")
        return value
    if key == "op":
        if value not in OPS:
            raise RuleError(f"{where}: unknown operator {value!r}; valid: {', '.join(OPS)}")
        return value
    if key in ("threshold", "for_s"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise RuleError(f"{where}: expected a number, got {value!r}")
        if key == "for_s" and not 0 <= value <= 86_400:
            raise RuleError(f"{where}: {value!r} is out of range; valid: 0-86400 seconds")
        return float(value)
    if key == "enabled":
        if not isinstance(value, bool):
            raise RuleError(f"{where}: expected true or false, got {value!r}")
        return value
    if key in ("summary", "severity", "name"):
        if not isinstance(value, str) or (key == "name" and not value):
            raise RuleError(f"{where}: expected a string, got {value!r}")
        return value
    valid = sorted({"for" if f.name == "for_s" else f.name for f in fields(AlertRule)} - {"name"})
    close = difflib.get_close_matches(key, valid, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"valid: {', '.join(valid)}"
    raise RuleError(f"{where}: unknown field; {hint}")


def apply_overrides(rules: tuple[AlertRule, ...], overrides: dict[str, dict[str, Any]]) -> tuple[AlertRule, ...]:
    """Change fields of rules by name, or add a rule given in full; all checked before any change."""
    if not isinstance(overrides, dict):
        raise RuleError(f"rules: expected a mapping of rule name to fields, got {type(overrides).__name__}")
    by_name = {r.name: r for r in rules}
    out = dict(by_name)
    for name, changes in overrides.items():
        if not isinstance(changes, dict):
            raise RuleError(f"rules.{name}: expected a mapping of fields, got {changes!r}")
        values = {_FIELD_NAMES.get(k, k): _coerce(name, _FIELD_NAMES.get(k, k), v) for k, v in changes.items()}
        if name in by_name:
            out[name] = replace(by_name[name], **values)
            continue
        missing = [k for k in ("signal", "op", "threshold", "for_s") if k not in values]
        if missing:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            shown = ", ".join("for" if m == "for_s" else m for m in missing)
            raise RuleError(f"rules.{name}: not a known rule{hint} (a new rule needs {shown})")
        out[name] = AlertRule(name=name, **values)
    return tuple(out.values())


def parse_assignment(text: str) -> tuple[str, str, Any]:
    """`NAME.FIELD=VALUE` (from the command line) -> (name, field, value parsed as YAML)."""
    from lab.core.safe_input import InputInvalid, load_value

    key, sep, raw = text.partition("=")
    name, dot, fld = key.strip().rpartition(".")
    if not sep or not dot or not name or not fld:
        raise RuleError(f"--rule {text}: expected NAME.FIELD=VALUE, e.g. SiteAvailabilityLow.for=5")
    try:
        value = load_value(raw)
    except InputInvalid as exc:
        if not str(exc).startswith("not valid YAML"):
            raise RuleError(f"--rule {key.strip()}=...: {exc}") from None
        value = raw  # not YAML: the text as written (an expression, a label)
    return name, fld, value


class Phase(str, Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True)
class RuleState:
    """Where one rule stands: phase and since when (seconds, the evaluator's clock)."""

    phase: Phase = Phase.INACTIVE
    since: float = 0.0
    value: float | None = None


@dataclass(frozen=True)
class Transition:
    """An alert fired or resolved at `t`."""

    rule: AlertRule
    kind: str  # "firing" | "resolved"
    t: float
    value: float | None
    active_since: float


def evaluate(
    rules: tuple[AlertRule, ...], states: dict[str, RuleState], signals: dict[str, float | None], t: float
) -> tuple[dict[str, RuleState], list[Transition]]:
    """One evaluation at time t: the new states and the alerts that fired or resolved."""
    new: dict[str, RuleState] = {}
    events: list[Transition] = []
    for rule in rules:
        old = states.get(rule.name, RuleState())
        value = signals.get(rule.signal)
        if not rule.enabled:
            if old.phase is Phase.FIRING:
                events.append(Transition(rule, "resolved", t, value, old.since))
            new[rule.name] = RuleState()
            continue
        if value is None:
            new[rule.name] = old
            continue
        if not rule.breached(value):
            if old.phase is Phase.FIRING:
                events.append(Transition(rule, "resolved", t, value, old.since))
            new[rule.name] = RuleState(Phase.INACTIVE, t, value)
            continue
        since = old.since if old.phase is not Phase.INACTIVE else t
        if old.phase is Phase.FIRING:
            new[rule.name] = RuleState(Phase.FIRING, old.since, value)
        elif t - since >= rule.for_s:
            new[rule.name] = RuleState(Phase.FIRING, since, value)
            events.append(Transition(rule, "firing", t, value, since))
        else:
            new[rule.name] = RuleState(Phase.PENDING, since, value)
    return new, events
