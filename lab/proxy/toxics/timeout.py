"""timeout: swallow every byte; close after ``timeout`` ms without data (0: never close).

The timer restarts whenever a chunk arrives, as Toxiproxy's does. Removing the toxic closes
the live connections of its proxy (done by the proxy, not here).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "TimeoutToxic"
    timeout: int = 0  # ms

    def __post_init__(self) -> None:
        if self.timeout < 0:
            raise ValueError("timeout must not be negative")


async def run(cfg: Config, stub: Stub) -> None:
    while True:
        try:
            if cfg.timeout > 0:
                async with asyncio.timeout(cfg.timeout / 1000):
                    chunk = await stub.peek()
            else:
                chunk = await stub.peek()
        except TimeoutError:
            stub.close()
            return
        if chunk.end:
            stub.close()
            return
        stub.drop()
