"""Turn pydantic validation errors into the lab's one-line messages with "did you mean"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError


def dotted(loc: Sequence[Any]) -> str:
    """('faults', 2, 'kind') -> 'faults[2].kind'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """"; did you mean 'x'?" or "; valid: a, b, c"."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; valid: {', '.join(options)}" if options else ""


def first_error(exc: ValidationError, model: type[BaseModel], prefix: Sequence[Any] = (), unknown: str = "field") -> str:
    """'<path>: <what is wrong>' for the first error, with the valid keys for an unknown one."""
    err = exc.errors()[0]
    loc = [*prefix, *err["loc"]]
    where = dotted(loc)
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"{where}: unknown {unknown}{did_you_mean(str(loc[-1]), fields_at(model, list(err['loc'])[:-1]))}{more}"
    if kind == "missing":
        return f"{where}: required field is missing{more}"
    if kind == "too_short":
        n = err.get("ctx", {}).get("min_length", 1)
        return f"{where}: needs at least {n} {'entry' if n == 1 else 'entries'}{more}"
    msg = err["msg"]
    msg = msg[0].lower() + msg[1:]
    if msg.startswith("value error, "):
        return f"{where}: {msg[len('value error, '):]}{more}"
    return f"{where}: {msg}, got {shown(err.get('input'))}{more}"


SHOWN_MAX = 80  # characters of a refused value repeated in its error (a 100 KB note is not echoed back)


def shown(value: Any) -> str:
    """A refused value as its error repeats it: repr, cut to SHOWN_MAX characters with its length said."""
    text = repr(value)
    if len(text) <= SHOWN_MAX:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:SHOWN_MAX - 1]}... ({size})"


def fields_at(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """Field names of the (nested) model found at `path` inside `model`."""
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        current = _inner_model(field.annotation)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def yaml_mapping(text: str, expected: str) -> dict[str, Any]:
    """Parse YAML text that must be a mapping, through lab.core.safe_input (size, depth, no aliases,
    no duplicate keys, no Python tags); ValueError 'not valid YAML at line N: ...' or
    'expected <expected>, got <type>' otherwise (empty text is an empty mapping)."""
    from lab.core.safe_input import InputInvalid, expect, load_yaml

    try:
        data = load_yaml(text)
        if data is None:
            return {}
        return expect(data, dict, expected)  # type: ignore[no-any-return]
    except InputInvalid as exc:
        raise ValueError(str(exc)) from None
