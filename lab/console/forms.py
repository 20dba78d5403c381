"""Form fields for the toolbox, derived from each action's argument model, so that a new action
appears in the console without any template change. The limits of the model are shown in the page
(`maxlength`, `min`/`max`, `pattern`) and checked again here before anything runs; a refusal names
the field and its limit and never repeats what was typed. Values then go through the same
validation as the CLI's (`lab.actions.perform.check`)."""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from lab.actions import ACTIONS
from lab.actions.base import Action
from lab.errors import UsageError

PREFIX = "arg_"
TEXTAREAS = ("text", "summary")  # free text a person writes: typed as is, whitespace and all
BOOL_LABELS = {"true": "yes", "false": "no"}


@dataclass(frozen=True)
class FieldSpec:
    """One input of an action's form, with the limits of its argument model."""

    name: str
    label: str
    kind: str  # "select", "bool" (a yes/no select), "number", "text", "textarea"
    required: bool
    default: Any
    choices: tuple[str, ...] = ()
    step: str = "1"
    help: str = ""
    min_length: int | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    pattern: str | None = None  # the model's regular expression

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def default_value(self) -> str:
        """The default as the form posts it ("" when there is none)."""
        if self.default is None:
            return ""
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    def options(self) -> list[tuple[str, str]]:
        """(value, label) of a select, each choice once; the default first and labelled as such, or
        an empty "choose" option first when the field has no default."""
        labels = [(c, BOOL_LABELS.get(c, c) if self.kind == "bool" else c) for c in self.choices]
        if self.default_value == "":
            return [("", "choose..." if self.required else "-"), *labels]
        first = [(v, f"{label} (default)") for v, label in labels if v == self.default_value]
        return first + [(v, label) for v, label in labels if v != self.default_value]

    @property
    def html_pattern(self) -> str | None:
        """The model's pattern as an HTML `pattern` (implicitly anchored; a literal '-' escaped in classes)."""
        if self.pattern is None:
            return None
        return self.pattern.removeprefix("^").removesuffix("$").replace("-]", r"\-]")

    def limit(self) -> str:
        """What is valid, in words."""
        if self.kind in ("select", "bool"):
            return "one of " + ", ".join(label for value, label in self.options() if value).replace(" (default)", "")
        if self.kind == "number":
            what = "a whole number" if self.step == "1" else "a number"
            if self.minimum is not None and self.maximum is not None:
                return f"{what} from {self.minimum:g} to {self.maximum:g}"
            if self.minimum is not None:
                return f"{what} of at least {self.minimum:g}"
            return what
        parts = []
        if self.max_length is not None:
            parts.append(f"at most {self.max_length} characters")
        if self.pattern is not None:
            parts.append(f"matching {self.pattern}")
        return ", ".join(parts) or "text"


def _unwrap(annotation: Any) -> Any:
    """`X | None` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _limits(info: FieldInfo, whole: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in info.metadata:
        if isinstance(item, MinLen):
            out["min_length"] = item.min_length
        elif isinstance(item, MaxLen):
            out["max_length"] = item.max_length
        elif isinstance(item, Ge):
            out["minimum"] = float(item.ge)  # type: ignore[arg-type]
        elif isinstance(item, Gt) and whole:
            out["minimum"] = float(item.gt) + 1  # type: ignore[arg-type]
        elif isinstance(item, Le):
            out["maximum"] = float(item.le)  # type: ignore[arg-type]
        elif isinstance(item, Lt) and whole:
            out["maximum"] = float(item.lt) - 1  # type: ignore[arg-type]
        elif isinstance(getattr(item, "pattern", None), str):
            out["pattern"] = item.pattern
    return out


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    annotation = _unwrap(info.annotation)
    required = info.is_required()
    default = None if info.default is PydanticUndefined else info.default
    label = name.removesuffix("_s").replace("_", " ") + (" (drill s)" if name.endswith("_s") else "")
    helptext = info.description or ""
    if typing.get_origin(annotation) is Literal:
        choices = tuple(dict.fromkeys(str(a) for a in typing.get_args(annotation)))
        return FieldSpec(name, label, "select", required, default, choices, help=helptext)
    if annotation is bool:
        return FieldSpec(name, label, "bool", required, default, ("true", "false"), help=helptext)
    if annotation is int:
        return FieldSpec(name, label, "number", required, default, help=helptext, **_limits(info, whole=True))
    if annotation is float:
        return FieldSpec(name, label, "number", required, default, step="any", help=helptext,
                         **_limits(info, whole=False))
    return FieldSpec(name, label, "textarea" if name in TEXTAREAS else "text", required, default, help=helptext,
                     **_limits(info, whole=False))


def fields(action: Action) -> list[FieldSpec]:
    return [field_spec(name, info) for name, info in action.args.model_fields.items()]


def groups() -> list[tuple[str, list[Action]]]:
    """The toolbox as the team page lists it: incident words, then reads, then changes."""
    titles = {"comms": "Incident", "inspect": "Look", "change": "Act"}
    return [(titles[cat], [a for a in ACTIONS.values() if a.category == cat]) for cat in ("comms", "inspect", "change")]


def typed(action: Action, form: typing.Mapping[str, str]) -> dict[str, str]:
    """What was typed in an action's form, field by field (to fill the form again)."""
    return {name: form.get(PREFIX + name, "") for name in action.args.model_fields}


def args_from_form(action: Action, form: typing.Mapping[str, str]) -> dict[str, Any]:
    """The action's arguments from a posted form: empty inputs are left to their defaults."""
    out: dict[str, Any] = {}
    for name in action.args.model_fields:
        raw = form.get(PREFIX + name, "")
        if raw.strip() != "":
            out[name] = raw if name in TEXTAREAS else raw.strip()
    return out


def validate(action: Action, form: typing.Mapping[str, str]) -> dict[str, Any]:
    """The arguments of a posted form, or UsageError naming the first bad field and what is valid
    (never the value sent: it may be long, or not meant to be shown again)."""
    args = args_from_form(action, form)
    try:
        action.args.model_validate(args)
    except ValidationError as exc:
        raise UsageError(f"{action.name}: {refusal(action, exc, args)}") from None
    return args


def refusal(action: Action, exc: ValidationError, args: typing.Mapping[str, Any]) -> str:
    """'<field>: <what is valid>' for the first error of a form's arguments."""
    err = exc.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else ""
    specs = {f.name: f for f in fields(action)}
    spec = specs.get(name)
    if spec is None:
        return f"{name or 'arguments'}: {err['msg'][0].lower()}{err['msg'][1:]}"
    kind = err["type"]
    sent = args.get(name)
    if kind == "missing":
        return f"{name}: required; {spec.limit()}"
    if kind == "string_too_long":
        return f"{name}: at most {spec.max_length} characters (you sent {len(str(sent))})"
    if kind == "string_too_short":
        return f"{name}: at least {spec.min_length} characters"
    if kind == "string_pattern_mismatch":
        return f"{name}: must match {spec.pattern}" + (f" ({spec.help})" if spec.help else "")
    return f"{name}: {spec.limit()}"

