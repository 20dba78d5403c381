"""Hostile bytes in, plain data out: the one reader for every YAML and JSON the lab accepts. Pure.

    bytes ──size──▶ ──strict UTF-8──▶ text ──YAML events: depth, aliases, tags, node count──▶
          ──construct: duplicate keys──▶ data ──top-level type──▶ caller's parser (pydantic, ...)

    bytes ──size──▶ ──strict UTF-8──▶ text ──json: duplicate keys, constants──▶ data ──depth──▶

Every failure is `InputInvalid` whose str() is one line without the file name (the caller names
the file or endpoint): `not UTF-8: byte 0xe9 at offset 17`, `line 4: duplicate key 'id'`,
`line 1: nested deeper than 64 levels`, `line 3: YAML aliases (*a) are not allowed; write the value out`.
Limits are data (`Limits`), so a caller that needs more room says so. Nothing here reads a
file: lab.inputs holds the thin wrappers that read at most limit + 1 bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

import yaml

MIB = 1 << 20

# libyaml's parser when PyYAML was built with it (the construct step stays in Python).
_Loader: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class InputInvalid(ValueError):
    """Bytes that are not acceptable input; str() is one line without the file name."""


@dataclass(frozen=True)
class Limits:
    """How much one input may be: bytes, nesting levels, YAML nodes, and whether aliases are allowed."""

    max_bytes: int = MIB
    max_depth: int = 64
    max_nodes: int = 200_000
    aliases: bool = False

    def with_bytes(self, max_bytes: int) -> Limits:
        return replace(self, max_bytes=max_bytes)


SCENARIO = Limits()  # scenarios, runbooks, original paths, --config files: hand-written, small
BODY = Limits(max_bytes=MIB)  # HTTP API bodies
VALUE = Limits(max_bytes=64 << 10, max_depth=16, max_nodes=10_000)  # one KEY=VALUE from the command line


def check_size(data: bytes | str, limits: Limits = SCENARIO) -> None:
    """InputInvalid when `data` is bigger than the limit (str is measured in UTF-8 bytes), or is
    a str that cannot be UTF-8 (an argument decoded with surrogateescape from bytes that were not)."""
    size = len(data) if isinstance(data, bytes) else _utf8_len(data, limits.max_bytes)
    if size > limits.max_bytes:
        raise InputInvalid(f"larger than the limit of {_human(limits.max_bytes)}")
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(data[exc.start])
            shown = f"byte 0x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
            at = len(data[:exc.start].encode("utf-8", errors="surrogateescape"))
            raise InputInvalid(f"not UTF-8: {shown} at offset {at}") from None


def decode(data: bytes, limits: Limits = SCENARIO) -> str:
    """The text of `data`: size-checked, strict UTF-8 (a BOM is dropped), InputInvalid naming the byte offset."""
    check_size(data, limits)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start:exc.start + 1]
        raise InputInvalid(f"not UTF-8: byte 0x{bad.hex()} at offset {exc.start} (save the file as UTF-8)") from None
    return text.removeprefix("\ufeff")


def load_yaml(data: bytes | str, limits: Limits = SCENARIO) -> Any:
    """One YAML document as plain data (None when empty); InputInvalid saying what and at which line."""
    text = decode(data, limits) if isinstance(data, bytes) else data
    if isinstance(data, str):
        check_size(text, limits)
    if "\x00" in text:
        raise InputInvalid(f"binary content: NUL byte at offset {text.index(chr(0))}")
    _check_events(text, limits)
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    except InputInvalid:
        raise
    except yaml.YAMLError as exc:
        raise InputInvalid(_yaml_message(exc)) from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # e.g. a 5,000-digit integer, 2023-13-45
        raise InputInvalid(f"not valid YAML: {_first_line(str(exc)) or type(exc).__name__}") from None
    finally:
        loader.dispose()


def load_value(text: str, limits: Limits = VALUE) -> Any:
    """A command-line value (`--set key=VALUE`) read as YAML: `30` is a number, `[a, b]` a list,
    `yes` a boolean, an empty string stays ''; the same limits as a file, smaller."""
    if not text.strip():
        return text
    return load_yaml(text, limits)


def load_json(data: bytes | str, limits: Limits = BODY) -> Any:
    """One JSON value as plain data; InputInvalid for size, UTF-8, syntax, duplicate keys, depth, NaN."""
    text = decode(data, limits) if isinstance(data, bytes) else data
    if isinstance(data, str):
        check_size(text, limits)
    if not text.strip():
        raise InputInvalid("empty: expected a JSON value")
    try:
        value = json.loads(text, object_pairs_hook=unique_object, parse_constant=_no_constant)
    except InputInvalid:
        raise
    except json.JSONDecodeError as exc:
        raise InputInvalid(f"not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputInvalid(f"nested deeper than {limits.max_depth} levels") from None
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise InputInvalid(f"not valid JSON: {_first_line(str(exc))}") from None
    check_depth(value, limits.max_depth)
    return value


def load_form(data: bytes, limits: Limits = BODY) -> list[tuple[str, str]]:
    """An application/x-www-form-urlencoded body as (name, value) pairs: size-checked, and every
    name and value strict UTF-8 once percent-decoded (InputInvalid naming the field and offset)."""
    check_size(data, limits)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise InputInvalid(f"form body: byte 0x{data[exc.start:exc.start + 1].hex()} at offset {exc.start} "
                           "is not URL-encoded") from None
    out = []
    for name, value in parse_qsl(text, keep_blank_values=True, encoding="latin-1"):  # latin-1: bytes as they came
        fields = []
        for part in (name, value):
            raw = part.encode("latin-1")
            try:
                fields.append(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                shown = _short(name.encode("latin-1").decode("utf-8", errors="replace"))
                raise InputInvalid(f"form field {shown}: not UTF-8: byte 0x{raw[exc.start:exc.start + 1].hex()} "
                                   f"at offset {exc.start}") from None
        out.append((fields[0], fields[1]))
    return out


def expect(data: Any, kind: type | tuple[type, ...], what: str) -> Any:
    """`data` if it is of `kind`, else InputInvalid 'expected <what>, got <type>'."""
    if not isinstance(data, kind):
        raise InputInvalid(f"expected {what}, got {_type_name(data)}")
    return data


def check_depth(value: Any, max_depth: int) -> None:
    """InputInvalid when lists and dicts nest deeper than `max_depth` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > max_depth:
                raise InputInvalid(f"nested deeper than {max_depth} levels")
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


# --- YAML --------------------------------------------------------------------------------------

_SAFE_TAGS = frozenset(k for k in yaml.SafeLoader.yaml_constructors if k is not None)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _check_events(text: str, limits: Limits) -> None:
    """Walk the parser's events (libyaml's parser does not recurse): depth, aliases, tags, and the
    node count with every alias counted as the nodes it stands for (a "billion laughs" is caught here)."""
    nodes = 0
    open_at: list[tuple[int, str | None]] = []  # (node count when the collection opened, its anchor)
    anchored: dict[str, int] = {}  # anchor -> nodes it stands for
    loader = _Loader(text)
    try:
        while True:
            try:
                event = loader.get_event()
            except yaml.YAMLError as exc:
                if "maximum nesting depth" in str(exc):  # libyaml's own bound (1,000) met before ours
                    mark = getattr(exc, "problem_mark", None)
                    raise InputInvalid(f"line {mark.line + 1 if mark else 1}: nested deeper than {limits.max_depth} levels") from None
                raise InputInvalid(_yaml_message(exc)) from None
            if event is None or isinstance(event, yaml.StreamEndEvent):
                return
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.AliasEvent):
                if not limits.aliases:
                    raise InputInvalid(f"line {line}: YAML aliases (*{event.anchor}) are not allowed; write the value out")
                nodes += anchored.get(event.anchor or "", 1)
            elif isinstance(event, yaml.NodeEvent):
                nodes += 1
                tag = getattr(event, "tag", None)
                if tag and tag not in ("!", *_SAFE_TAGS):
                    shown = tag.replace("tag:yaml.org,2002:", "!!")
                    raise InputInvalid(f"line {line}: tag {shown} is not allowed (plain YAML data only)")
                if isinstance(event, _OPEN):
                    open_at.append((nodes - 1, event.anchor))
                    if len(open_at) > limits.max_depth:
                        raise InputInvalid(f"line {line}: nested deeper than {limits.max_depth} levels")
                elif event.anchor:
                    anchored[event.anchor] = 1
            elif isinstance(event, _CLOSE) and open_at:
                start, anchor = open_at.pop()
                if anchor:
                    anchored[anchor] = nodes - start
            if nodes > limits.max_nodes:
                raise InputInvalid(f"line {line}: more than {limits.max_nodes:,} YAML nodes (aliases expanded)")
    finally:
        loader.dispose()


class _StrictLoader(_Loader):  # type: ignore[misc]
    """The safe loader, with duplicate mapping keys an error naming their line."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                continue  # unhashable: the base class reports it
            if duplicate:
                raise InputInvalid(f"line {key_node.start_mark.line + 1}: duplicate key {_short(key)}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]


def _yaml_message(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = _first_line(getattr(exc, "problem", None) or "")
    context = _first_line(getattr(exc, "context", None) or "")
    said = f"{context}, {problem}" if context and problem else problem or context
    where = f" at line {mark.line + 1}" if mark is not None else ""
    return f"not valid YAML{where}{': ' + said if said else ''}"


# --- JSON --------------------------------------------------------------------------------------


def unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict (json's object_pairs_hook); InputInvalid on a repeated key."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise InputInvalid(f"duplicate key {_short(key)}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise InputInvalid(f"{name} is not valid JSON")


# --- small helpers -----------------------------------------------------------------------------


def _utf8_len(text: str, cap: int) -> int:
    """len(text.encode()) without encoding more than needed to know it exceeds `cap`."""
    if len(text) > cap:
        return cap + 1
    return len(text.encode("utf-8", errors="surrogatepass"))


def _human(n: int) -> str:
    return f"{n / MIB:g} MiB" if n >= MIB and n % MIB == 0 else f"{n:,} bytes"


def _type_name(data: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", int: "a number", float: "a number",
             bool: "a boolean", type(None): "nothing (empty)"}
    return names.get(type(data), type(data).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_line(text: str) -> str:
    """The first line (and first clause) of a library's message, at most 200 characters."""
    return text.strip().splitlines()[0].split(";")[0][:200] if text.strip() else ""
