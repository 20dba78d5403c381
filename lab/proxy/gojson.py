"""Go ``encoding/json`` behaviour, as Toxiproxy's clients see it. Pure: no I/O.

Toxiproxy decodes request bodies with Go's ``json.Decoder`` and encodes answers with
``json.Marshal``; clients see the consequences and some assert them:

- only the first JSON value of a body is read (trailing bytes are ignored);
- an empty body is the error ``EOF``, a truncated one ``unexpected EOF``;
- object keys match struct fields exactly first, then case-insensitively; unknown keys
  are ignored; ``null`` leaves a field as it was;
- an integer field takes only an integer literal: ``100.0``, ``1e3`` and ``"100"`` are
  ``json: cannot unmarshal number 100.0 into Go struct field LatencyToxic.attributes.latency
  of type int64`` (the first such error in document order is the one reported);
- ``Marshal`` is compact, escapes ``<``, ``>`` and ``&``, and prints a float32 with the
  fewest digits that read back as the same float32.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from lab.core import safe_input

__all__ = [
    "DecodeError", "FloatLiteral", "Field", "RawNumber", "assign", "decode", "dumps", "format_float32",
    "kind_of", "to_float32", "value_type_error",
]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class DecodeError(Exception):
    """A body Go's decoder would reject; ``str()`` is Go's message, e.g. ``unexpected EOF``."""


class FloatLiteral(float):
    """A JSON number that was written with a fraction or exponent; keeps its source text."""

    literal: str

    def __new__(cls, text: str) -> "FloatLiteral":
        obj = super().__new__(cls, float(text))
        obj.literal = text
        return obj


def _reject_constant(name: str) -> Any:
    raise _Constant(name)


class _Constant(Exception):
    pass


_DECODER = json.JSONDecoder(parse_float=FloatLiteral, parse_constant=_reject_constant,
                            object_pairs_hook=safe_input.unique_object)


def _quote_char(c: str) -> str:
    if c == "'":
        return "'\\''"
    if c == '"':
        return "'\"'"
    q = json.dumps(c)[1:-1]
    return f"'{q}'"


def _context_is_array(text: str, pos: int) -> bool:
    """Whether the innermost open bracket before ``pos`` is ``[`` (strings skipped)."""
    stack: list[str] = []
    in_str = esc = False
    for ch in text[:pos]:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            stack.append(ch)
        elif ch in "]}" and stack:
            stack.pop()
    return bool(stack) and stack[-1] == "["


def decode(raw: bytes) -> Any:
    """Decode the first JSON value of ``raw`` the way ``json.NewDecoder(r).Decode`` would, within
    the lab's limits for any body (lab.core.safe_input.BODY): not past 1 MiB, strict UTF-8 (Go
    would put U+FFFD in place of bad bytes), no repeated key (Go keeps the last), 64 levels deep."""
    try:
        text = safe_input.decode(raw, safe_input.BODY)
    except safe_input.InputInvalid as exc:
        raise DecodeError(str(exc)) from None
    start = len(text) - len(text.lstrip(" \t\r\n"))
    if start == len(text):
        raise DecodeError("EOF")
    try:
        value, _end = _DECODER.raw_decode(text, start)
        safe_input.check_depth(value, safe_input.BODY.max_depth)
        return value
    except safe_input.InputInvalid as exc:
        raise DecodeError(str(exc)) from None
    except RecursionError:
        raise DecodeError(f"nested deeper than {safe_input.BODY.max_depth} levels") from None
    except _Constant as exc:
        raise DecodeError(f"invalid character {_quote_char(str(exc)[0])} looking for beginning of value")
    except json.JSONDecodeError as exc:
        raise DecodeError(_go_syntax_message(exc, text)) from None


def _go_syntax_message(exc: json.JSONDecodeError, text: str) -> str:
    pos = exc.pos
    msg = exc.msg
    if msg.startswith("Unterminated string") or pos >= len(text):
        return "unexpected EOF"
    c = _quote_char(text[pos])
    literal = {"t": "true", "f": "false", "n": "null"}.get(text[pos])
    if literal and msg.startswith("Expecting value"):
        for i, want in enumerate(literal):
            if pos + i >= len(text):
                return "unexpected EOF"
            if text[pos + i] != want:
                return f"invalid character {_quote_char(text[pos + i])} in literal {literal} (expecting {_quote_char(want)})"
    if msg.startswith("Invalid control character"):
        return f"invalid character {c} in string literal"
    if msg.startswith("Invalid \\escape") or msg.startswith("Invalid \\u"):
        return f"invalid character {c} in string escape code"
    if msg.startswith("Expecting property name"):
        return f"invalid character {c} looking for beginning of object key string"
    if msg.startswith("Expecting ':'"):
        return f"invalid character {c} after object key"
    if msg.startswith("Expecting ','"):
        where = "after array element" if _context_is_array(text, pos) else "after object key:value pair"
        return f"invalid character {c} {where}"
    return f"invalid character {c} looking for beginning of value"


def kind_of(value: Any) -> str:
    """Go's name for the kind of a JSON value (``string``, ``number``, ``bool``, ``array``, ``object``)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def to_float32(x: float) -> float:
    """Round a Python float to the nearest float32 value."""
    rounded: float = struct.unpack("<f", struct.pack("<f", x))[0]
    return rounded


@dataclass(frozen=True)
class Field:
    """One Go struct field: its JSON name and Go type (``string bool int int64 float32 object``)."""

    name: str
    go_type: str


def _convert(value: Any, go_type: str) -> Any:
    """Return the Go value for ``value`` or raise ValueError(<Go 'Value' text>)."""
    if go_type == "string":
        if isinstance(value, str):
            return value
        raise ValueError(kind_of(value))
    if go_type == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(kind_of(value))
    if go_type in ("int", "int64"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(kind_of(value))
        if isinstance(value, FloatLiteral):
            raise ValueError(f"number {value.literal}")
        if not INT64_MIN <= value <= INT64_MAX:
            raise ValueError(f"number {value}")
        return int(value)
    if go_type == "float32":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(kind_of(value))
        f = float(value)
        if abs(f) > 3.4028234663852886e38:
            lit = value.literal if isinstance(value, FloatLiteral) else str(value)
            raise ValueError(f"number {lit}")
        return to_float32(f)
    if go_type == "object":
        if isinstance(value, dict):
            return value
        raise ValueError(kind_of(value))
    raise AssertionError(go_type)  # pragma: no cover


def assign(
    obj: dict[str, Any], fields: list[Field], struct_name: str, path: str = ""
) -> tuple[dict[str, Any], str | None]:
    """Pick ``fields`` out of ``obj`` like Go's decoder fills a struct.

    Returns (values set, first type error or None). Keys match exactly, else case-insensitively;
    later keys win; ``null`` sets nothing; unknown keys are ignored.
    """
    exact = {f.name: f for f in fields}
    folded = {f.name.casefold(): f for f in fields}
    out: dict[str, Any] = {}
    error: str | None = None
    for key, value in obj.items():
        f = exact.get(key) or folded.get(key.casefold())
        if f is None or value is None:
            continue
        try:
            out[f.name] = _convert(value, f.go_type)
        except ValueError as exc:
            if error is None:
                error = (
                    f"json: cannot unmarshal {exc} into Go struct field "
                    f"{struct_name}.{path}{f.name} of type {f.go_type}"
                )
    return out, error


def value_type_error(value: Any, go_value_type: str) -> str:
    """Go's message for a top-level value of the wrong kind."""
    return f"json: cannot unmarshal {kind_of(value)} into Go value of type {go_value_type}"


_GO_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_GO_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


class RawNumber(str):
    """A number already formatted the Go way (``dumps`` writes it without quotes)."""


def dumps(value: Any) -> bytes:
    """Compact JSON as ``json.Marshal`` writes it (``RawNumber`` values verbatim)."""
    markers: list[str] = []

    def sub(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, RawNumber):
            markers.append(str(v))
            return f"\x00RAW{len(markers) - 1}\x00"
        return v

    text = json.dumps(sub(value), ensure_ascii=False, separators=(",", ":"))
    text = _GO_ESCAPE_RE.sub(lambda m: _GO_ESCAPES[m.group(0)], text)
    if markers:
        text = re.sub(r'"\\u0000RAW(\d+)\\u0000"', lambda m: markers[int(m.group(1))], text)
    return text.encode("utf-8")


def format_float32(x: float) -> RawNumber:
    """A float32 the way Go's ``json.Marshal`` prints it: shortest round-trip digits."""
    v = to_float32(x)
    if v == 0:
        return RawNumber("0")
    for precision in range(1, 10):
        text = f"{v:.{precision}g}"
        if to_float32(float(text)) == v:
            break
    d = Decimal(text)
    if 1e-6 <= abs(v) < 1e21:
        s = format(d, "f")
        if "." in s:
            s = s.rstrip("0").rstrip(".")
        return RawNumber(s)
    mant, _, exp = f"{d:e}".partition("e")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    sign = exp[0]
    digits = exp[1:].lstrip("0") or "0"
    if sign == "+":  # Go shortens e-07 to e-7 but keeps e+21
        digits = digits.rjust(2, "0")
    return RawNumber(f"{mant}e{sign}{digits}")
