"""Scenario files: the model, and validation that names the culprit before anything runs.

    text ──yaml──▶ dict ──pydantic──▶ Scenario ──cross-checks──▶ valid Scenario
                                      (fault kinds and their params, runbook, responder actions,
                                       unique ids, `after` references and cycles)

Pure: the caller reads the file and passes the registries in. Every error is one line:
`scenarios/x.yaml: faults[2].kind: unknown fault 'conection_hog'; did you mean 'connection_hog'?`
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lab.core.errors import did_you_mean, first_error, yaml_mapping
from lab.core.runbook import ScoringConfig
from lab.core.variants import MAX_SEED, Variants, whole_range

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BasedOn(_Model):
    """The real incident a scenario retells."""

    incident: str
    date: str | None = None
    source: str | None = Field(None, description="where the story comes from (a postmortem file or URL)")
    original: str | None = Field(None, pattern=ID_PATTERN,
                                 description="its path as data: scenarios/originals/<original>.yaml (default: March 2023)")


class Story(_Model):
    """What responders are told when the drill starts, and what only the facilitator knows."""

    told: str
    not_told: str = ""


class StackNeeds(_Model):
    """Settings the scenario's stack must have (mapped onto `gameday up` config keys)."""

    max_connections: int = Field(40, ge=5, le=10000)
    access_mode: Literal["pool", "per-request"] = "pool"
    workers: int = Field(2, ge=1, le=64)
    threads: int = Field(8, ge=1, le=256)
    pool_size: int = Field(4, ge=1, le=1000)
    statement_timeout_ms: int = Field(5000, ge=0)
    request_timeout_s: float = Field(5.0, gt=0, le=600)
    proxy: bool = True
    pooler: bool = Field(False, description="PgBouncer between Arcade and the DB from the start")
    pooler_pool_size: int = Field(20, ge=1, le=1000, description="server connections PgBouncer keeps")
    pooler_mode: Literal["session", "transaction"] = "transaction"

    def overrides(self) -> list[str]:
        """The `--set key=value` list that gives a stack these settings."""
        return [
            f"db.max_connections={self.max_connections}",
            f"web.access_mode={self.access_mode}",
            f"web.workers={self.workers}",
            f"web.threads={self.threads}",
            f"web.pool_size={self.pool_size}",
            f"web.statement_timeout_ms={self.statement_timeout_ms}",
            f"web.request_timeout_s={self.request_timeout_s}",
            f"proxy.enabled={'true' if self.proxy else 'false'}",
            "loadgen.enabled=true",
            f"pooler.enabled={'true' if self.pooler else 'false'}",
            f"pooler.pool_size={self.pooler_pool_size}",
            f"pooler.pool_mode={self.pooler_mode}",
        ]


class Traffic(_Model):
    """Player traffic before any fault (the load generator's baseline)."""

    baseline_rps: float = Field(10.0, ge=0, le=10000)


class SteadyState(_Model):
    """The SLO the stack must meet before any fault is injected."""

    availability_min: float = Field(0.99, ge=0, le=1)
    p95_ms_max: float = Field(1000.0, gt=0)
    window_s: float = Field(5.0, gt=0, le=600)


class FaultStep(_Model):
    """One step of the fault schedule: a fault kind with parameters, when, and for how long."""

    id: str = Field(pattern=ID_PATTERN)
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    at_s: float = Field(0.0, ge=0, description="seconds after the drill starts, or after `after` happened")
    after: str | None = Field(None, description="another fault's id, or alert:<AlertName>")
    duration_s: float | None = Field(None, gt=0, description="reverted by the runner after this long")


class Success(_Model):
    """When the drill counts as recovered, and how long a declared resolution is watched."""

    slo_holds_s: float = Field(30.0, gt=0, le=3600)
    availability_min: float = Field(0.99, ge=0, le=1)
    causes_gone: bool | list[str] = Field(
        True, description="true: every fault's cause must be gone; or the ids of the faults whose cause must be"
    )
    relapse_window_s: float = Field(
        60.0, gt=0, le=3600,
        description="drill seconds the lab watches after the team declares the incident resolved: the SLO must "
                    "hold and the causes stay gone, or the drill ends 'resolved too early'",
    )

    def must_be_gone(self, fault_ids: list[str]) -> list[str]:
        """The fault step ids whose cause must be gone for the drill to count as recovered."""
        if self.causes_gone is True:
            return list(fault_ids)
        if self.causes_gone is False:
            return []
        return list(self.causes_gone)


class Hint(_Model):
    """Help the facilitator can release, at a time or on request, at a score cost."""

    id: str = Field(pattern=ID_PATTERN)
    text: str
    at_s: float | None = Field(None, ge=0)
    cost: int = Field(5, ge=0, le=100)


class ResponderStep(_Model):
    """One action of a scripted responder (the autopilot or the wrong-turns player)."""

    action: str
    args: dict[str, Any] = Field(default_factory=dict)
    at_s: float = Field(0.0, ge=0, description="seconds after the drill starts, or after `after` happened")
    after: str | None = Field(None, description="alert:<AlertName>, or fault:<id>")
    note: str | None = None


class Alerts(_Model):
    """Alert rules the scenario switches off to match the historical setup."""

    disabled: list[str] = Field(default_factory=list)


# What a team's console can show. A scenario grants the dashboards the original site had (default:
# the site's availability and latency, its alerts and its services); the rest a team finds with the
# toolbox or buys with a hint.
Dashboard = Literal["availability", "latency", "alerts", "services", "db_connections", "db_sessions_by_state"]
DASHBOARDS: tuple[str, ...] = get_args(Dashboard)
DEFAULT_DASHBOARDS: tuple[Dashboard, ...] = ("availability", "latency", "alerts", "services")


class Scenario(_Model):
    """A drill: the story, the stack, the faults, when it counts as healed, and its responders."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    difficulty: Literal["easy", "medium", "hard"]
    based_on: BasedOn | None = None
    story: Story
    stack: StackNeeds = StackNeeds()
    traffic: Traffic = Traffic()
    steady_state: SteadyState = SteadyState()
    faults: list[FaultStep] = Field(min_length=1)
    success: Success = Success()
    slo_breaks: bool = Field(True, description="the faults break the SLO (an outage to recover from); false: the site "
                                               "should hold it, as with a postmortem's corrective measures in place")
    time_limit_s: float = Field(900.0, gt=0, le=24 * 3600)
    hints: list[Hint] = Field(default_factory=list)
    alerts: Alerts = Alerts()
    dashboards: list[Dashboard] = Field(
        default_factory=lambda: list(DEFAULT_DASHBOARDS),
        description="what the team's console shows, as the original site's monitoring did: " + ", ".join(DASHBOARDS),
    )
    runbook: str
    par_score: float = Field(70.0, ge=0, le=100)
    scoring: ScoringConfig | None = Field(None, description="weights and par times; default: the runbook's")
    autopilot: list[ResponderStep] = Field(min_length=1)
    wrong_turns: list[ResponderStep] = Field(default_factory=list)
    variants: Variants | None = Field(None, description="what may differ between teams (lab.core.variants)")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="the seed of the variant this scenario is "
                                                                  "(written by the lab into a run's copy)")

    @field_validator("faults")
    @classmethod
    def _unique_fault_ids(cls, steps: list[FaultStep]) -> list[FaultStep]:
        seen: set[str] = set()
        for step in steps:
            if step.id in seen:
                raise ValueError(f"duplicate fault id '{step.id}'")
            seen.add(step.id)
        return steps

    def fault(self, fault_id: str) -> FaultStep:
        return next(step for step in self.faults if step.id == fault_id)


class ScenarioInvalid(ValueError):
    """A scenario failed validation; str() is the one-line message (without the file name)."""


def parse_scenario(
    text: str,
    fault_params: Mapping[str, type[BaseModel]],
    runbooks: Collection[str],
    actions: Collection[str],
    alerts: Collection[str] = (),
) -> Scenario:
    """Parse and fully validate a scenario's YAML text; raise ScenarioInvalid naming the field."""
    try:
        data = yaml_mapping(text, "a mapping with id, title, story, faults, runbook, autopilot, ...")
    except ValueError as exc:
        raise ScenarioInvalid(str(exc)) from None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioInvalid(first_error(exc, Scenario)) from None
    _check_faults(scenario, fault_params)
    _check_variants(scenario, fault_params)
    _check_after(scenario, alerts)
    if isinstance(scenario.success.causes_gone, list):
        ids = [s.id for s in scenario.faults]
        for i, ref in enumerate(scenario.success.causes_gone):
            if ref not in ids:
                raise ScenarioInvalid(f"success.causes_gone[{i}]: unknown fault id '{ref}'{did_you_mean(ref, ids)}")
    if scenario.runbook not in runbooks:
        raise ScenarioInvalid(f"runbook: unknown runbook '{scenario.runbook}'{did_you_mean(scenario.runbook, runbooks)}")
    for group in ("autopilot", "wrong_turns"):
        for i, step in enumerate(getattr(scenario, group)):
            if step.action not in actions:
                raise ScenarioInvalid(f"{group}[{i}].action: unknown action '{step.action}'{did_you_mean(step.action, actions)}")
            _check_reference(f"{group}[{i}].after", step.after, scenario, alerts)
    for name in scenario.alerts.disabled:
        if alerts and name not in alerts:
            raise ScenarioInvalid(f"alerts.disabled: unknown alert '{name}'{did_you_mean(name, alerts)}")
    return scenario


def _check_faults(scenario: Scenario, fault_params: Mapping[str, type[BaseModel]]) -> None:
    for i, step in enumerate(scenario.faults):
        model = fault_params.get(step.kind)
        if model is None:
            raise ScenarioInvalid(f"faults[{i}].kind: unknown fault '{step.kind}'{did_you_mean(step.kind, fault_params)}")
        try:
            model.model_validate(step.params)
        except ValidationError as exc:
            raise ScenarioInvalid(first_error(exc, model, prefix=("faults", i, "params"))) from None


def _check_variants(scenario: Scenario, fault_params: Mapping[str, type[BaseModel]]) -> None:
    """Every varied parameter names a fault step and one of its kind's parameters, and every value
    it can take (both ends of a range, each choice) is valid there; every varied hint exists."""
    if scenario.variants is None:
        return
    ids = [s.id for s in scenario.faults]
    for key, spec in scenario.variants.params.items():
        where = f"variants.params.{key}"
        fault_id, _, param = key.partition(".")
        if fault_id not in ids or not param:
            raise ScenarioInvalid(f"{where}: name a fault step and its parameter as <fault id>.<param>; "
                                  f"fault ids: {', '.join(ids)}")
        step = scenario.fault(fault_id)
        model = fault_params[step.kind]
        if param not in model.model_fields:
            raise ScenarioInvalid(f"{where}: {step.kind} has no parameter '{param}'"
                                  f"{did_you_mean(param, list(model.model_fields))}")
        for value in spec.candidates(whole_range(spec)):
            try:
                model.model_validate({**step.params, param: value})
            except ValidationError as exc:
                raise ScenarioInvalid(f"{where}: the value {value!r} is not valid for {step.kind}: "
                                      f"{first_error(exc, model)}") from None
    hint_ids = [h.id for h in scenario.hints]
    for hint_id, texts in scenario.variants.hints.items():
        if hint_id not in hint_ids:
            raise ScenarioInvalid(f"variants.hints.{hint_id}: unknown hint{did_you_mean(hint_id, hint_ids)}")
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ScenarioInvalid(f"variants.hints.{hint_id}: give one or more non-empty wordings")


def _check_reference(where: str, ref: str | None, scenario: Scenario, alerts: Collection[str]) -> None:
    if ref is None:
        return
    kind, _, name = ref.partition(":")
    ids = [s.id for s in scenario.faults]
    if kind == "alert" and name:
        if alerts and name not in alerts:
            raise ScenarioInvalid(f"{where}: unknown alert '{name}'{did_you_mean(name, alerts)}")
    elif kind == "fault" and name:
        if name not in ids:
            raise ScenarioInvalid(f"{where}: unknown fault id '{name}'{did_you_mean(name, ids)}")
    else:
        raise ScenarioInvalid(f"{where}: expected 'alert:<AlertName>' or 'fault:<id>', got '{ref}'")


def _check_after(scenario: Scenario, alerts: Collection[str]) -> None:
    """Fault steps may follow another fault (`after: <id>` or `fault:<id>`) or an alert; no cycles."""
    ids = [s.id for s in scenario.faults]
    parent: dict[str, str] = {}
    for i, step in enumerate(scenario.faults):
        if step.after is None:
            continue
        if step.after.startswith("alert:"):
            _check_reference(f"faults[{i}].after", step.after, scenario, alerts)
            continue
        target = step.after.removeprefix("fault:")
        if target not in ids:
            raise ScenarioInvalid(f"faults[{i}].after: unknown fault id '{target}'{did_you_mean(target, ids)}")
        parent[step.id] = target
    for i, step in enumerate(scenario.faults):
        path = [step.id]
        node = step.id
        while node in parent:
            node = parent[node]
            if node in path:
                cycle = " -> ".join([*path[path.index(node):], node])
                raise ScenarioInvalid(f"faults[{i}].after: circular 'after': {cycle}")
            path.append(node)


def after_target(step: FaultStep) -> tuple[str, str] | None:
    """('fault', id) or ('alert', name) for a step's `after`, or None when it runs at an offset."""
    if step.after is None:
        return None
    kind, _, name = step.after.partition(":")
    if not name:
        return ("fault", kind)
    return (kind, name)
