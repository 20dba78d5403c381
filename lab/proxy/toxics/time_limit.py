"""lab_time_limit (ours): close the connection ``duration`` ms after the toxic started on it,
whatever the traffic (Toxiproxy's ``timeout`` only fires on an idle link). Data passes unchanged.

The clock starts when the toxic starts on the link (connection accepted, or toxic added) and
is not restarted by updates.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "TimeLimitToxic"
    duration: int = 0  # ms

    def __post_init__(self) -> None:
        if self.duration < 0:
            raise ValueError("duration must not be negative")


@dataclass
class State:
    started: float | None = None


async def run(cfg: Config, stub: Stub) -> None:
    state: State = stub.state
    if state.started is None:
        state.started = stub.now()
    try:
        async with asyncio.timeout_at(state.started + cfg.duration / 1000):
            while True:
                chunk = await stub.peek()
                stub.forward()
                if chunk.end:
                    return
    except TimeoutError:
        stub.close()
