"""Run one toolbox action and shape its timeline record: the one path for the CLI, the console
and the scripted responders, so every action leaves the same kind of event.

    perform(name, args, ctx) -> Performed(kind, data)   data: {action, args, result, ok, duration_s[, error]}
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lab.actions import ACTIONS
from lab.actions.base import Action, ActionContext
from lab.core.errors import did_you_mean, first_error
from lab.errors import UsageError
from lab.stack import procs
from lab.stack.base import Stack


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
    marker = _mark_in_flight(ctx, name, parsed) if action.category == "change" else None
    try:
        result, ok, error = action.run(ctx, parsed), True, None
    except UsageError:
        raise
    except Exception as exc:  # a failed action is part of the story
        result, ok, error = {}, False, str(exc)
    finally:
        if marker is not None:
            marker.unlink(missing_ok=True)
    data: dict[str, Any] = {"action": name, "args": parsed.model_dump(mode="json"), "result": result, "ok": ok,
                            "duration_s": round(time.monotonic() - started, 3)}
    if error:
        data["error"] = error
    return Performed(event_kind(action), data)


def _in_flight_dir(stack: Stack) -> Path:
    return stack.run_dir / "in-flight"


def _mark_in_flight(ctx: ActionContext, name: str, parsed: Any) -> Path | None:
    return mark_in_flight(ctx.stack, name, parsed.model_dump(mode="json"))


def mark_in_flight(stack: Stack, name: str, args: dict[str, Any], via: str | None = None) -> Path | None:
    """Say a changing act is running (a toolbox action, or `via` the recorded shell), so observers do
    not take its effects for outside changes; unlink the marker it returns when the act is over."""
    folder = _in_flight_dir(stack)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json"
        marker.write_text(json.dumps({"action": name, "args": args, "pid": os.getpid(),
                                      **({"via": via} if via else {})}))
        return marker
    except OSError:
        return None


def actions_in_flight(stack: Stack) -> list[dict[str, Any]]:
    """The changing actions running on a stack now (markers of dead processes are removed)."""
    out = []
    for marker in sorted(_in_flight_dir(stack).glob("*.json")):
        try:
            info = json.loads(marker.read_text())
        except (OSError, ValueError):
            continue
        if not procs.alive(int(info.get("pid", 0))):
            marker.unlink(missing_ok=True)
            continue
        out.append(info)
    return out
