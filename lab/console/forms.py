"""Form fields for the toolbox, derived from each action's argument model, so that a new action
appears in the console without any template change. Values go back through the same validation
as the CLI's (`lab.actions.perform.check`)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lab.actions import ACTIONS
from lab.actions.base import Action

PREFIX = "arg_"


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action's form."""

    name: str
    label: str
    kind: str  # "select", "number", "text", "textarea"
    required: bool
    default: Any
    choices: tuple[str, ...] = ()
    step: str = "1"
    help: str = ""

    @property
    def input_name(self) -> str:
        return PREFIX + self.name


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    annotation = _unwrap(info.annotation)
    required = info.is_required()
    default = None if info.default is PydanticUndefined else info.default
    label = name.removesuffix("_s").replace("_", " ") + (" (s)" if name.endswith("_s") else "")
    helptext = info.description or ""
    if typing.get_origin(annotation) is Literal:
        return FieldSpec(name, label, "select", required, default, tuple(str(a) for a in typing.get_args(annotation)),
                         help=helptext)
    if annotation is bool:
        return FieldSpec(name, label, "select", required, default, ("true", "false"), help=helptext)
    if annotation is int:
        return FieldSpec(name, label, "number", required, default, help=helptext)
    if annotation is float:
        return FieldSpec(name, label, "number", required, default, step="any", help=helptext)
    return FieldSpec(name, label, "textarea" if name == "text" else "text", required, default, help=helptext)


def fields(action: Action) -> list[FieldSpec]:
    return [field_spec(name, info) for name, info in action.args.model_fields.items()]


def groups() -> list[tuple[str, list[Action]]]:
    """The toolbox as the team page lists it: incident words, then reads, then changes."""
    titles = {"comms": "Incident", "inspect": "Look", "change": "Act"}
    return [(titles[cat], [a for a in ACTIONS.values() if a.category == cat]) for cat in ("comms", "inspect", "change")]


def args_from_form(action: Action, form: typing.Mapping[str, str]) -> dict[str, Any]:
    """The action's arguments from a posted form: empty inputs are left to their defaults."""
    out: dict[str, Any] = {}
    for name in action.args.model_fields:
        raw = form.get(PREFIX + name, "")
        if raw.strip() != "":
            out[name] = raw.strip() if name != "text" else raw
    return out
