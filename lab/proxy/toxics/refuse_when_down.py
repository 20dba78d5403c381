"""lab_refuse_when_down (ours): while the upstream does not answer, refuse new connections.

Toxiproxy accepts every client and, when the upstream dial fails, closes it: the client sees
a successful connect and then EOF. With this toxic on a proxy (either stream), a failed dial
resets that client (RST) and closes the proxy's listener, so later connects get ECONNREFUSED
as they would from the real server; the proxy probes the upstream every ``interval`` ms
(0 means 200) and listens again on the same port once it answers. The proxy stays
``enabled`` in the API throughout. On the data path it does nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub
from lab.proxy.toxics import noop

DEFAULT_INTERVAL_MS = 200


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "RefuseWhenDownToxic"
    interval: int = 0  # ms between probes of the upstream while it is down

    def __post_init__(self) -> None:
        if self.interval < 0:
            raise ValueError("interval must not be negative")

    @property
    def probe_every(self) -> float:
        return (self.interval or DEFAULT_INTERVAL_MS) / 1000


async def run(cfg: Config, stub: Stub) -> None:
    await noop.run(None, stub)
