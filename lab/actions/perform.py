"""Run one toolbox action and shape its timeline record: the one path for the CLI, the console
and the scripted responders, so every action leaves the same kind of event.

    perform(name, args, ctx) -> Performed(kind, data)   data: {action, args, result, ok, duration_s[, error]}
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from lab.actions import ACTIONS
from lab.actions.base import Action, ActionContext
from lab.core.errors import did_you_mean, first_error
from lab.errors import UsageError


@dataclass(frozen=True)
class Performed:
    kind: str  # "ack", "note", ... for words; "action.<name>" for tools
    data: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.data["ok"])


def event_kind(action: Action) -> str:
    return action.name if action.category == "comms" else f"action.{action.name}"


def check(name: str, args: dict[str, Any]) -> tuple[Action, Any]:
    """The action and its validated arguments, or UsageError naming the argument."""
    action = ACTIONS.get(name)
    if action is None:
        raise UsageError(f"unknown action '{name}'{did_you_mean(name, ACTIONS)}")
    try:
        return action, action.args.model_validate(args)
    except ValidationError as exc:
        raise UsageError(f"{name}: {first_error(exc, action.args, unknown='argument')}") from None


def perform(name: str, args: dict[str, Any], ctx: ActionContext) -> Performed:
    """Validate (UsageError, nothing done) then run; a failure while running is recorded, not raised.

    An action may still refuse with UsageError when only the stack can tell the input is bad
    (an unknown PostgreSQL setting); it does so before changing anything, and nothing is recorded."""
    action, parsed = check(name, args)
    started = time.monotonic()
    try:
        result, ok, error = action.run(ctx, parsed), True, None
    except UsageError:
        raise
    except Exception as exc:  # a failed action is part of the story
        result, ok, error = {}, False, str(exc)
    data: dict[str, Any] = {"action": name, "args": parsed.model_dump(mode="json"), "result": result, "ok": ok,
                            "duration_s": round(time.monotonic() - started, 3)}
    if error:
        data["error"] = error
    return Performed(event_kind(action), data)
