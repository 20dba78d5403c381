"""What a responder's action is: a small function that runs for real against the stack, and its facts.

    Action(name, summary, args model, run(ctx, args) -> result, category,
           observed_as, example)                                  registered in lab.actions.ACTIONS

Actions take argument models (never shell strings built from input), and every SQL they run is
parameterized. The caller records each run on the timeline with actor, arguments, result and
duration. `observed_as` says what observers see the action as (the observed event kinds it
explains, so they are not recorded again as changes made by hand); it may depend on one argument
(`ByArg`: restart db is a database restart, restart web a web restart). `destructive` (derived
from these facts) says whether a person should confirm before it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab.stack.base import Stack


DESTRUCTIVE_VERBS = ("restart", "stop", "scale", "terminate", "kill")  # a change named so ends or resizes something
DESTRUCTIVE_KINDS = (".restarted", ".connections_terminated", ".scaled")  # observed effects that cut people off


class Args(BaseModel):
    """Base of every action's arguments: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(Args):
    pass


@dataclass
class ActionContext:
    """Who acts, on which stack, and how fast the drill's clock runs: a team reads and types every
    duration in drill seconds (at --speed 5 one real second is five drill seconds), so an action
    converts the ages it reports and the durations it is given with `drill_s` and `real_s`."""

    stack: Stack
    actor: str
    speed: float = 1.0

    def drill_s(self, real_s: float) -> float:
        """A measured real duration, in drill seconds."""
        return real_s * self.speed

    def real_s(self, drill_s: float) -> float:
        """A duration the team gave in drill seconds, in real seconds."""
        return drill_s / self.speed


@dataclass(frozen=True)
class ByArg:
    """What observers see an action as, by the value of one of its arguments."""

    arg: str
    kinds: Mapping[str, tuple[str, ...]]  # argument value -> observed event kinds


@dataclass(frozen=True)
class Action:
    """One tool of the responder toolbox."""

    name: str
    summary: str
    args: type[Args]
    run: Callable[[ActionContext, Any], dict[str, Any]]
    category: str  # "comms" (words, no effect on the stack), "inspect" (reads), "change" (acts)
    observed_as: tuple[str, ...] | ByArg = ()  # observed event kinds (lab.timeline.observers) it causes
    example: Mapping[str, Any] = field(default_factory=dict)  # arguments to show it with

    def observed(self, args: Mapping[str, Any]) -> tuple[str, ...]:
        """The observed event kinds this action causes with these arguments."""
        if isinstance(self.observed_as, ByArg):
            return self.observed_as.kinds.get(str(args.get(self.observed_as.arg)), ())
        return self.observed_as

    @property
    def destructive(self) -> bool:
        """A change that restarts, stops, scales, terminates or kills (by its name or by what observers
        see it as, with any argument): the console asks to confirm it first."""
        if self.category != "change":
            return False
        if self.name.split("-")[0] in DESTRUCTIVE_VERBS:
            return True
        kinds = ([k for ks in self.observed_as.kinds.values() for k in ks] if isinstance(self.observed_as, ByArg)
                 else list(self.observed_as))
        return any(k.endswith(DESTRUCTIVE_KINDS) for k in kinds)
