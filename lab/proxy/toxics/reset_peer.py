"""reset_peer: on the first chunk (or end), drop it, wait ``timeout`` ms, then reset (RST)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "ResetToxic"
    timeout: int = 0  # ms

    def __post_init__(self) -> None:
        if self.timeout < 0:
            raise ValueError("timeout must not be negative")


async def run(cfg: Config, stub: Stub) -> None:
    chunk = await stub.peek()
    stub.drop()
    first = chunk.at if not chunk.end else stub.now()
    await stub.sleep_until(first + cfg.timeout / 1000)
    stub.reset()
