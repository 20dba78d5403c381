"""What a fault is: parameters, inject, revert, whether its cause is still there, and its facts.

    Fault ── params (pydantic model, validated with the scenario)
         ├── snapshot(ctx, params) -> data    what revert restores, read BEFORE the journal entry
         ├── inject(ctx, params) -> data      more data (pids, names), journaled after injection
         ├── revert(ctx, params, data)        idempotent; works from the journal alone
         ├── cause_present(ctx, params, data) "is the harm still being done?" (success check)
         ├── symptom                          what the probe must see while it is active
         ├── observed_as                      what observers see it as (the observed event kinds it explains)
         └── example                          parameters with which its harm is quick to see

A new kind is one file that builds a `Fault` with all of these, and one line in lab.faults.FAULTS.

Faults talk to the stack only through its interface, to the fault proxy only through the
Toxiproxy HTTP API, and to the load generator only through its control interface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab.errors import LabError
from lab.monitor.load import LoadControl
from lab.stack.base import Stack


class Params(BaseModel):
    """Base of every fault's parameters: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FaultError(LabError):
    """A fault could not be injected or reverted."""


@dataclass(frozen=True)
class Symptom:
    """What users see while the fault is active, in the probe's terms (checked by verify)."""

    description: str
    availability_below: float | None = None
    latency_p95_above_ms: float | None = None
    route: str | None = None


@dataclass
class FaultContext:
    """Everything a fault may touch for one injection."""

    stack: Stack
    fault_id: str
    state_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.state_dir = self.stack.run_dir / "faults"
        self.state_dir.mkdir(parents=True, exist_ok=True)

    def toxiproxy(self) -> Any:  # toxiproxy-python is untyped
        """A toxiproxy-python client on this stack's proxy API (works against real Toxiproxy too)."""
        from toxiproxy import Toxiproxy

        host, port = self.stack.address("proxy").split(":")
        client = Toxiproxy()
        client.update_api_consumer(host, int(port))
        return client

    def loadgen(self) -> LoadControl:
        """The load generator's control interface."""
        return LoadControl(self.stack.address("loadgen"), timeout=5.0)


def nothing_to_undo(_ctx: FaultContext, _params: Any, _data: dict[str, Any]) -> None:
    """The revert of a one-shot fault (a restart, a kill): what happened cannot be taken back."""


def never_present(_ctx: FaultContext, _params: Any, _data: dict[str, Any]) -> bool:
    """A one-shot fault leaves no cause behind."""
    return False


Inject = Callable[[FaultContext, Any], dict[str, Any]]
Revert = Callable[[FaultContext, Any, dict[str, Any]], None]
Present = Callable[[FaultContext, Any, dict[str, Any]], bool]
Snapshot = Callable[[FaultContext, Any], dict[str, Any]]


@dataclass(frozen=True)
class Fault:
    """One kind of harm, registered by name in lab.faults.FAULTS."""

    name: str
    summary: str
    params: type[Params]
    inject: Inject
    revert: Revert
    cause_present: Present
    symptom: Symptom
    observed_as: tuple[str, ...] = ()  # observed event kinds (lab.timeline.observers) its inject or revert causes
    example: Mapping[str, Any] = field(default_factory=dict)  # params with which its harm is quick to see
    instant: bool = False  # a one-shot event (a restart, a kill): nothing to revert
    snapshot: Snapshot | None = None

    def example_params(self) -> Params:
        """The example, validated (what `gameday faults` shows and the compose tests inject)."""
        return self.params.model_validate(dict(self.example))
