"""slow_close: data passes unchanged; the close is held back ``delay`` ms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "SlowCloseToxic"
    delay: int = 0  # ms

    def __post_init__(self) -> None:
        if self.delay < 0:
            raise ValueError("delay must not be negative")


async def run(cfg: Config, stub: Stub) -> None:
    while True:
        chunk = await stub.peek()
        if chunk.end:
            await stub.sleep(cfg.delay / 1000)
            stub.forward()
            return
        stub.forward()
