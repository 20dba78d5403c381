"""latency: each chunk leaves ``latency`` ms (± up to ``jitter`` ms) after it arrived, in order.

Throughput is not reduced: chunks queue behind the one being held. Stacked latency toxics add
up because a chunk's arrival time is moved to the moment it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "LatencyToxic"
    latency: int = 0  # ms
    jitter: int = 0  # ms

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        if self.jitter < 0:
            raise ValueError("jitter must not be negative")


async def run(cfg: Config, stub: Stub) -> None:
    while True:
        chunk = await stub.peek()
        if chunk.end:
            stub.forward()
            return
        delay = cfg.latency
        if cfg.jitter:
            delay += stub.rng.randrange(2 * cfg.jitter) - cfg.jitter
        leave = chunk.at + delay / 1000
        await stub.sleep_until(leave)
        stub.forward(at=max(leave, chunk.at))
