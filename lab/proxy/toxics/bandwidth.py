"""bandwidth: at most ``rate`` KB/s (1 KB = 1000 bytes) per link; ``rate`` 0 holds all data.

Pieces of at most 100 ms worth of data leave when the pipe would have finished sending them.
The pipe's clock carries over while data is waiting (a late wake-up does not delay the rest),
and restarts from a chunk's arrival when the pipe was idle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from lab.proxy.stream import Stub


@dataclass(frozen=True)
class Config:
    GO_STRUCT: ClassVar[str] = "BandwidthToxic"
    rate: int = 0  # KB/s

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError("rate must not be negative (0 stalls the stream)")


async def run(cfg: Config, stub: Stub) -> None:
    bytes_per_s = cfg.rate * 1000
    piece = max(1, cfg.rate * 100)
    free_at = stub.now()
    while True:
        chunk = await stub.peek()
        if chunk.end:
            stub.forward()
            return
        if bytes_per_s == 0:
            await stub.wait_forever()
        n = min(len(chunk), piece)
        free_at = max(free_at, chunk.at) + n / bytes_per_s
        await stub.sleep_until(free_at)
        stub.forward(n)
