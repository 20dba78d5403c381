"""slicer: cut each chunk into pieces of about ``average_size`` bytes (± ``size_variation``),
sleeping ``delay`` microseconds after each piece.

A chunk is halved (the cut moved by up to ± variation) until every piece is at most
average + variation bytes; with variation 0, 24 bytes at average 1 become 24 pieces.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "SlicerToxic"
    GO_INT: ClassVar[str] = "int"
    average_size: int = 0  # bytes
    size_variation: int = 0  # bytes
    delay: int = 0  # microseconds

    def __post_init__(self) -> None:
        if self.average_size <= 0:
            raise ValueError("average_size must be at least 1")
        if self.size_variation < 0:
            raise ValueError("size_variation must not be negative")
        if self.delay < 0:
            raise ValueError("delay must not be negative")


def piece_sizes(size: int, cfg: Config, rng: Random) -> list[int]:
    """The sizes a chunk of ``size`` bytes is cut into, in order (they add up to ``size``)."""
    limit = cfg.average_size + cfg.size_variation
    out: list[int] = []
    todo = [size]  # a stack of segments, leftmost on top
    while todo:
        seg = todo.pop()
        if seg <= limit:
            out.append(seg)
            continue
        mid = seg // 2
        if cfg.size_variation:
            mid += rng.randrange(2 * cfg.size_variation) - cfg.size_variation
        mid = min(max(mid, 1), seg - 1)
        todo.append(seg - mid)
        todo.append(mid)
    return out


async def run(cfg: Config, stub: Stub) -> None:
    while True:
        chunk = await stub.peek()
        if chunk.end:
            stub.forward()
            return
        due = stub.now()
        for n in piece_sizes(len(chunk), cfg, stub.rng):
            stub.forward(n)
            if cfg.delay:
                due += cfg.delay / 1_000_000
                await stub.sleep_until(due)
