"""noop: passes every chunk on unchanged (also what a link runs when a toxicity roll fails)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "NoopToxic"


async def run(cfg: Config | None, stub: Stub) -> None:
    while True:
        chunk = await stub.peek()
        stub.forward()
        if chunk.end:
            return
