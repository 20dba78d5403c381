"""The toxics: one file each (a frozen config dataclass and one async ``run(cfg, stub)``).

``TOXICS`` is the registry, by the type name clients send. Types starting with ``lab_`` are
ours (not in Toxiproxy), named so no Toxiproxy client mistakes them for a Toxiproxy type.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Awaitable, Callable

from lab.proxy.toxics import (
    bandwidth,
    latency,
    limit_data,
    noop,
    refuse_when_down,
    reset_peer,
    slicer,
    slow_close,
    time_limit,
    timeout,
)


@dataclass(frozen=True)
class ToxicKind:
    """A registry entry: the config class, the function that runs it, an optional per-link state."""

    config: type
    run: Callable[[Any, Any], Awaitable[None]]
    new_state: Callable[[], Any] | None = None

    @property
    def go_struct(self) -> str:
        return str(getattr(self.config, "GO_STRUCT"))

    @property
    def go_int(self) -> str:
        return str(getattr(self.config, "GO_INT", "int64"))

    @property
    def attribute_names(self) -> list[str]:
        return [f.name for f in fields(self.config)]


TOXICS: dict[str, ToxicKind] = {
    "noop": ToxicKind(noop.Config, noop.run),
    "latency": ToxicKind(latency.Config, latency.run),
    "bandwidth": ToxicKind(bandwidth.Config, bandwidth.run),
    "slow_close": ToxicKind(slow_close.Config, slow_close.run),
    "timeout": ToxicKind(timeout.Config, timeout.run),
    "reset_peer": ToxicKind(reset_peer.Config, reset_peer.run),
    "slicer": ToxicKind(slicer.Config, slicer.run),
    "limit_data": ToxicKind(limit_data.Config, limit_data.run, limit_data.State),
    "lab_time_limit": ToxicKind(time_limit.Config, time_limit.run, time_limit.State),
    "lab_refuse_when_down": ToxicKind(refuse_when_down.Config, refuse_when_down.run),
}
