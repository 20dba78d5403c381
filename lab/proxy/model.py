"""Request bodies in, JSON shapes out: the API's pure half (no sockets, no clock).

Each ``parse_*`` takes the raw body and returns plain values or raises an ``ApiError`` from
``lab.proxy.errors`` with Toxiproxy's exact text. Validation order follows Toxiproxy's:
decode -> stream -> default name -> type -> name conflict -> attributes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from lab.proxy import errors, gojson
from lab.proxy.gojson import Field
from lab.proxy.toxics import TOXICS, ToxicKind

DIRECTIONS = ("upstream", "downstream")

_PROXY_FIELDS = [
    Field("name", "string"),
    Field("listen", "string"),
    Field("upstream", "string"),
    Field("enabled", "bool"),
]
_POPULATE_TYPE = '[]struct { toxiproxy.Proxy; Enabled *bool "json:\\"enabled\\"" }'


@dataclass(frozen=True)
class ProxyInput:
    """A proxy as a request describes it (``enabled`` None: not given)."""

    name: str
    listen: str
    upstream: str
    enabled: bool | None


class Toxic:
    """One toxic of a proxy: what the API shows and what every link of that stream runs."""

    def __init__(self, name: str, type: str, stream: str, toxicity: float, config: Any) -> None:
        self.name = name
        self.type = type
        self.stream = stream  # as the client sent it (Toxiproxy echoes it unchanged)
        self.direction = stream.lower()
        self.toxicity = toxicity
        self.config = config

    @property
    def kind(self) -> ToxicKind:
        return TOXICS[self.type]

    def to_json(self) -> dict[str, Any]:
        attributes = {f.name: getattr(self.config, f.name) for f in dataclasses.fields(self.config)}
        return {
            "attributes": attributes,
            "name": self.name,
            "type": self.type,
            "stream": self.stream,
            "toxicity": gojson.format_float32(self.toxicity),
        }


def _decode_object(raw: bytes, go_type: str) -> dict[str, Any]:
    try:
        value = gojson.decode(raw)
    except gojson.DecodeError as exc:
        raise errors.BAD_REQUEST_BODY.joined(str(exc)) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.BAD_REQUEST_BODY.joined(gojson.value_type_error(value, go_type))
    return value


def _proxy_fields(obj: dict[str, Any]) -> dict[str, Any]:
    values, error = gojson.assign(obj, _PROXY_FIELDS, "Proxy")
    if error:
        raise errors.BAD_REQUEST_BODY.joined(error)
    return values


def parse_proxy_create(raw: bytes) -> ProxyInput:
    """POST /proxies: name and upstream required (checked in that order), enabled defaults true."""
    v = _proxy_fields(_decode_object(raw, "toxiproxy.Proxy"))
    name, upstream = v.get("name", ""), v.get("upstream", "")
    if not name:
        raise errors.MISSING_FIELD.joined("name")
    if not upstream:
        raise errors.MISSING_FIELD.joined("upstream")
    return ProxyInput(name, v.get("listen", ""), upstream, v.get("enabled", True))


def parse_proxy_update(raw: bytes, current: ProxyInput) -> ProxyInput:
    """POST/PATCH /proxies/{p}: fields left out keep their values; the name never changes."""
    v = _proxy_fields(_decode_object(raw, "toxiproxy.Proxy"))
    return ProxyInput(
        current.name,
        v.get("listen", current.listen),
        v.get("upstream", current.upstream),
        v.get("enabled", current.enabled),
    )


def parse_populate(raw: bytes) -> list[ProxyInput]:
    """POST /populate: an array; every entry is checked before any is applied."""
    try:
        value = gojson.decode(raw)
    except gojson.DecodeError as exc:
        raise errors.BAD_REQUEST_BODY.joined(str(exc)) from None
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.BAD_REQUEST_BODY.joined(gojson.value_type_error(value, _POPULATE_TYPE))
    entries: list[dict[str, Any]] = []
    first_error: str | None = None
    for item in value:
        if item is None:
            item = {}
        if not isinstance(item, dict):
            first_error = first_error or gojson.value_type_error(item, _POPULATE_TYPE[2:])
            entries.append({})
            continue
        fields, error = gojson.assign(item, _PROXY_FIELDS, "Proxy")
        first_error = first_error or error
        entries.append(fields)
    if first_error:
        raise errors.BAD_REQUEST_BODY.joined(first_error)
    out: list[ProxyInput] = []
    for i, v in enumerate(entries, start=1):
        if not v.get("name"):
            raise errors.MISSING_FIELD.joined(f"name at proxy {i}")
        if not v.get("upstream"):
            raise errors.MISSING_FIELD.joined(f"upstream at proxy {i}")
        out.append(ProxyInput(v["name"], v.get("listen", ""), v["upstream"], v.get("enabled", True)))
    return out


def _attributes(type_: str, obj: dict[str, Any], base: dict[str, Any]) -> Any:
    """Merge ``obj``'s attributes over ``base`` and build the config (400 on a bad value)."""
    kind = TOXICS[type_]
    raw_attrs = obj.get("attributes")
    for key in obj:  # Go matches the key case-insensitively, too
        if key != "attributes" and key.casefold() == "attributes":
            raw_attrs = obj[key]
    merged = dict(base)
    if raw_attrs is not None:
        if not isinstance(raw_attrs, dict):
            raise errors.BAD_REQUEST_BODY.joined(
                f"json: cannot unmarshal {gojson.kind_of(raw_attrs)} "
                f"into Go struct field .attributes of type toxics.{kind.go_struct}"
            )
        fields = [Field(n, kind.go_int) for n in kind.attribute_names]
        values, error = gojson.assign(raw_attrs, fields, kind.go_struct, "attributes.")
        if error:
            raise errors.BAD_REQUEST_BODY.joined(error)
        merged.update(values)
    try:
        return kind.config(**merged)
    except ValueError as exc:
        raise errors.INVALID_ATTRIBUTE.joined(f"{type_}: {exc}") from None


_WRAPPER_FIELDS = [
    Field("name", "string"),
    Field("type", "string"),
    Field("stream", "string"),
    Field("toxicity", "float32"),
]


def parse_toxic_create(raw: bytes, existing: Iterable[str]) -> Toxic:
    """POST /proxies/{p}/toxics: defaults stream=downstream, toxicity=1, name=<type>_<stream>."""
    obj = _decode_object(raw, "toxics.ToxicWrapper")
    v, error = gojson.assign(obj, _WRAPPER_FIELDS, "ToxicWrapper")
    if error:
        raise errors.BAD_REQUEST_BODY.joined(error)
    stream = v.get("stream", "downstream")
    if stream.lower() not in DIRECTIONS:
        raise errors.INVALID_STREAM
    type_ = v.get("type", "")
    name = v.get("name", "") or f"{type_}_{stream}"
    kind = TOXICS.get(type_)
    if kind is None:
        raise errors.INVALID_TOXIC_TYPE
    if name in set(existing):
        raise errors.TOXIC_ALREADY_EXISTS
    zero = {n: 0 for n in kind.attribute_names}
    config = _attributes(type_, obj, zero)
    return Toxic(name, type_, stream, v.get("toxicity", 1.0), config)


def parse_toxic_update(raw: bytes, toxic: Toxic) -> tuple[Any, float]:
    """POST/PATCH /proxies/{p}/toxics/{t}: attributes merge; a missing toxicity is kept."""
    obj = _decode_object(raw, "struct { Attributes interface {}; Toxicity float32 }")
    v, error = gojson.assign(obj, [Field("toxicity", "float32")], "")
    if error:
        raise errors.BAD_REQUEST_BODY.joined(error)
    base = {f.name: getattr(toxic.config, f.name) for f in dataclasses.fields(toxic.config)}
    config = _attributes(toxic.type, obj, base)
    return config, v.get("toxicity", toxic.toxicity)
