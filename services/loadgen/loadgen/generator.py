"""The open-loop generator: issue requests at the shape's scheduled times, whatever the responses do.

    shape ──Schedule──▶ due times ──▶ pick route (mix) ──▶ Pool.submit ──▶ Stats (latency from `due`)

The loop wakes every 1-50 ms (when the next request is due, at the event loop's timer resolution)
and sends everything due by then, each stamped with its own scheduled time, so latency includes any wait the generator or
the pool added (no coordinated omission). A request more than a timeout behind schedule is not
sent and counts as `missed`: the generator says so rather than silently slowing down.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from loadgen.client import Pool, Request
from loadgen.mix import Mix, Picker, default_mix
from loadgen.shapes import Schedule, Shape, rate_at
from loadgen.stats import MISSED, Stats

MIN_SLEEP = 0.001


@dataclass(frozen=True)
class Target:
    """Where the traffic goes."""

    host: str
    port: int

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"--target: expected http://HOST:PORT, got {url!r}")
        return cls(parts.hostname, parts.port or 80)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class Generator:
    """One target, one shape at a time, stats since start."""

    def __init__(self, target: Target, shape: Shape, mix: Mix | None = None, timeout: float = 5.0,
                 max_conns: int = 1000, seed: int | None = None):
        self.target = target
        self.timeout = timeout
        self.max_conns = max_conns
        self.stats = Stats()
        self.mix = mix or default_mix()
        self.picker = Picker(self.mix, f"{target.host}:{target.port}", random.Random(seed))
        self.wall_offset = time.time() - time.monotonic()
        self.shape = shape
        self.shape_start = time.monotonic()
        self._schedule = Schedule(shape)
        self._next = self._schedule.next()
        self.pool: Pool | None = None
        self._stopping = asyncio.Event()

    def set_shape(self, shape: Shape, mix: Mix | None = None) -> None:
        """Switch to a new shape now (its t=0 is this moment)."""
        if mix is not None and mix != self.mix:
            self.mix = mix
            old = self.picker
            self.picker = Picker(mix, old.host, old.rng)
            self.picker.matches = old.matches
        self.shape = shape
        self.shape_start = time.monotonic()
        self._schedule = Schedule(shape)
        self._next = self._schedule.next()

    def current_rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        return rate_at(self.shape, now - self.shape_start)

    def _done(self, req: Request, outcome: str, end: float, body: bytes) -> None:
        self.stats.outcome(end + self.wall_offset, req.route, outcome, end - req.scheduled)
        if body:
            self.picker.started(body)

    async def run(self) -> None:
        """Issue requests until stop() is called."""
        self.pool = pool = Pool(self.target.host, self.target.port, self._done, self.timeout, self.max_conns)
        sweeper = asyncio.create_task(self._sweep(pool))
        stats, offset, timeout = self.stats, self.wall_offset, self.timeout
        monotonic = time.monotonic
        try:
            while not self._stopping.is_set():
                now = monotonic()
                start = self.shape_start
                due = start + self._next
                while due <= now:
                    lag = now - due
                    if lag > timeout:
                        stats.outcome(now + offset, "all", MISSED, None)
                    else:
                        route, payload = self.picker.pick()
                        stats.issued(due + offset, lag)
                        pool.submit(Request(route, payload, due, route == "start_match"))
                    self._next = self._schedule.next()
                    due = start + self._next
                # never less than the event loop's 1 ms timer resolution (shorter sleeps return at
                # once and the loop would spin); a request sent up to 1 ms late carries that lag in
                # its latency, which counts from its scheduled time
                await asyncio.sleep(min(max(due - monotonic(), MIN_SLEEP), 0.05))
        finally:
            sweeper.cancel()
            pool.close()

    async def _sweep(self, pool: Pool) -> None:
        while True:
            await asyncio.sleep(0.1)
            pool.sweep(time.monotonic())

    def stop(self) -> None:
        self._stopping.set()
