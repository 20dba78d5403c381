"""What moves along a link, and what a toxic sees of it: Chunk, Channel, Stub.

A toxic never owns data. It *peeks* at the head of its input, decides, and then forwards,
drops or splits that head. So cancelling a toxic's task at any ``await`` (an update or a
removal of the toxic) loses nothing: whatever it had not passed on is still at the head
of its input channel, and the link hands that to whoever runs next. Channels never block
a producer; the link pauses its socket reader when too many bytes are queued instead.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from typing import Any, Protocol


class Chunk:
    """Bytes from one socket read (``data``), or the end of the stream (``data is None``).

    ``at`` is the loop time the data arrived (latency counts from it); ``reset`` on an end
    asks the writer to close with an RST instead of a FIN.
    """

    __slots__ = ("data", "at", "reset")

    def __init__(self, data: bytes | None, at: float, reset: bool = False) -> None:
        self.data = data
        self.at = at
        self.reset = reset

    @property
    def end(self) -> bool:
        return self.data is None

    def __len__(self) -> int:
        return 0 if self.data is None else len(self.data)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Chunk({self.data!r}, at={self.at:.4f}{', reset' if self.reset else ''})"


class Output(Protocol):
    """Where a stage's data goes: the next stage's Channel, or the link's writer.

    ``blocked`` is true while the writer's socket buffer is full; ``unblocked()`` waits for it
    to drain (a Channel is never blocked: its link pauses the reader instead).
    """

    blocked: bool

    def put(self, item: Chunk) -> None: ...

    async def unblocked(self) -> None: ...


class Meter(Protocol):
    """Counts queued bytes for one link so it can pause/resume its reader."""

    def queued(self, delta: int) -> None: ...


class _NoMeter:
    def queued(self, delta: int) -> None:
        pass


class Channel:
    """An unbounded FIFO of chunks between two stages of one link."""

    __slots__ = ("items", "_waiter", "_meter")
    blocked = False

    def __init__(self, meter: Meter | None = None) -> None:
        self.items: deque[Chunk] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._meter = meter or _NoMeter()

    def put(self, item: Chunk) -> None:
        self.items.append(item)
        if item.data:
            self._meter.queued(len(item.data))
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def peek(self) -> Chunk:
        while not self.items:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self.items[0]

    def take(self, n: int | None = None) -> Chunk:
        """Remove the head (or only its first ``n`` bytes) and return it."""
        head = self.items[0]
        if n is None or head.data is None or n >= len(head.data):
            self.items.popleft()
            if head.data:
                self._meter.queued(-len(head.data))
            return head
        part = Chunk(head.data[:n], head.at)
        head.data = head.data[n:]
        self._meter.queued(-n)
        return part

    def drain(self) -> list[Chunk]:
        items = list(self.items)
        self.items.clear()
        total = sum(len(c) for c in items)
        if total:
            self._meter.queued(-total)
        return items

    def __len__(self) -> int:
        return len(self.items)


class Stub:
    """A toxic's handle on its place in one link (one connection, one direction).

    ``peek`` waits for the next chunk; ``forward``/``drop`` consume it (or its first ``n``
    bytes); ``close``/``reset`` end the connection after what was already forwarded;
    ``sleep_until`` waits on the loop clock. ``state`` survives updates of the toxic.
    """

    __slots__ = ("input", "_slot", "state", "rng", "started", "_loop")

    def __init__(self, input: Channel, slot: Any, state: Any, rng: random.Random) -> None:
        self.input = input
        self._slot = slot  # has an ``output`` attribute; the link repoints it as the chain changes
        self.state = state
        self.rng = rng
        self._loop = asyncio.get_running_loop()
        self.started = self._loop.time()

    def now(self) -> float:
        return self._loop.time()

    async def peek(self) -> Chunk:
        """The next chunk, once there is one and the writer downstream has room for it."""
        out = self._slot.output
        while out.blocked:
            await out.unblocked()
            out = self._slot.output
        return await self.input.peek()

    def forward(self, n: int | None = None, at: float | None = None) -> None:
        item = self.input.take(n)
        if at is not None:
            item.at = at
        self._slot.output.put(item)

    def drop(self, n: int | None = None) -> None:
        self.input.take(n)

    def close(self) -> None:
        """End the stream here: the writer closes once it has written what came before."""
        self._slot.output.put(Chunk(None, self.now()))

    def reset(self) -> None:
        """Like ``close`` but the connection is torn down with an RST (SO_LINGER 0)."""
        self._slot.output.put(Chunk(None, self.now(), reset=True))

    async def sleep_until(self, when: float) -> None:
        """Wait until loop time ``when``. Less than a millisecond early counts as on time: event
        loop timers have millisecond resolution, and a 1 ms floor per chunk would cap a
        latency toxic at 1000 chunks a second. Callers keep absolute targets, so these
        sub-millisecond remainders never add up."""
        delay = when - self._loop.time()
        if delay >= 0.001:
            await asyncio.sleep(delay)

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds)

    async def wait_forever(self) -> None:
        await self._loop.create_future()
