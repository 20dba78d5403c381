"""limit_data: forward up to ``bytes`` bytes on this link, then close the connection.

The count lives in the link's state, so it survives updates of the toxic (not a remove and
re-add). With ``bytes`` 0 the first chunk closes the connection without passing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "LimitDataToxic"
    bytes: int = 0

    def __post_init__(self) -> None:
        if self.bytes < 0:
            raise ValueError("bytes must not be negative")


@dataclass
class State:
    transmitted: int = 0


async def run(cfg: Config, stub: Stub) -> None:
    state: State = stub.state
    while True:
        chunk = await stub.peek()
        if chunk.end:
            stub.forward()
            return
        room = max(0, cfg.bytes - state.transmitted)
        n = min(room, len(chunk))
        if n:
            stub.forward(n)
            state.transmitted += n
        if state.transmitted >= cfg.bytes:
            stub.close()
            return
