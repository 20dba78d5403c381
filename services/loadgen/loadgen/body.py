"""A control request's JSON body, read as hostile until parsed.

The generator ships alone (its image has no `lab` package), so it keeps its own copy of the
lab's rules for a JSON body (lab.core.safe_input): strict UTF-8 naming the byte offset, one
JSON value, no repeated key, no NaN or Infinity, at most MAX_DEPTH levels. The size cap is the
server's (control.MAX_BODY, checked before the body is read).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 16  # {"mix": {"route": weight}} is three


class BodyError(ValueError):
    """The body is not acceptable JSON; str() is one line."""


def parse_body(body: bytes) -> Any:
    """The JSON value of `body` (None when empty), or BodyError saying what is wrong."""
    if not body.strip():
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body: not UTF-8: byte 0x{body[exc.start:exc.start + 1].hex()} at offset {exc.start}") from None
    try:
        value = json.loads(text, object_pairs_hook=_unique, parse_constant=_constant)
    except BodyError:
        raise
    except json.JSONDecodeError as exc:
        raise BodyError(f"body: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise BodyError(f"body: nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # an integer past Python's digit limit
        raise BodyError(f"body: not valid JSON: {str(exc).split(';')[0]}") from None
    _check_depth(value)
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BodyError(f"body: duplicate key {key[:60]!r}")
        out[key] = value
    return out


def _constant(name: str) -> Any:
    raise BodyError(f"body: {name} is not valid JSON")


def _check_depth(value: Any) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                raise BodyError(f"body: nested deeper than {MAX_DEPTH} levels")
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
