"""Actions that are words, not changes: acknowledge, notes and hypotheses, roles, updates, escalation,
and the resolution with its summary (what was wrong and what fixed it)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args, NoArgs


class NoteArgs(Args):
    text: str = Field(min_length=1, max_length=4000)
    hypothesis: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")  # `gameday note --help` lists them


class RoleArgs(Args):
    role: Literal["IC", "scribe", "comms", "ops"]
    name: str = Field(min_length=1, max_length=100)


class UpdateArgs(Args):
    audience: Literal["internal", "external"]
    text: str = Field(min_length=1, max_length=4000)


class EscalateArgs(Args):
    team: str = Field(min_length=1, max_length=100)


class ResolveArgs(Args):
    summary: str = Field(min_length=1, max_length=1000, description="what was wrong and what fixed it")


def _said(_ctx: ActionContext, args: Any) -> dict[str, Any]:
    return args.model_dump() if args is not None else {}


ACK = Action("ack", "acknowledge the alert: someone is on it", NoArgs, _said, "comms")
NOTE = Action("note", "write a note, optionally tagged as a hypothesis", NoteArgs, _said, "comms",
              example={"text": "connections at max_connections; the network looks fine", "hypothesis": "db-overloaded"})
ROLE = Action("role", "name who holds a role (IC, scribe, comms, ops)", RoleArgs, _said, "comms",
              example={"role": "IC", "name": "alice"})
UPDATE = Action("update", "post a status update to an internal or external audience", UpdateArgs, _said, "comms",
                example={"audience": "external", "text": "Some players cannot log in; we are on it."})
ESCALATE = Action("escalate", "page another team", EscalateArgs, _said, "comms", example={"team": "dba"})
RESOLVE = Action("resolve", "declare the incident resolved, saying what was wrong and what fixed it", ResolveArgs,
                 _said, "comms",
                 example={"summary": "leaked idle-in-transaction sessions held every connection; terminated them"})
