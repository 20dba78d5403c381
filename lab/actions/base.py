"""What a responder's action is: a small function that runs for real against the stack.

    Action(name, summary, args model, run(ctx, args) -> result)   registered in lab.actions.ACTIONS

Actions take argument models (never shell strings built from input), and every SQL they run is
parameterized. The caller records each run on the timeline with actor, arguments, result and
duration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from lab.stack.local import LocalStack


class Args(BaseModel):
    """Base of every action's arguments: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoArgs(Args):
    pass


@dataclass
class ActionContext:
    """Who acts, on which stack."""

    stack: LocalStack
    actor: str


@dataclass(frozen=True)
class Action:
    """One tool of the responder toolbox."""

    name: str
    summary: str
    args: type[Args]
    run: Callable[[ActionContext, Any], dict[str, Any]]
    category: str  # "comms" (words, no effect on the stack), "inspect" (reads), "change" (acts)
