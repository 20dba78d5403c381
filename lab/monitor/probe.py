"""The synthetic probe: a player's journey through Arcade, started at a fixed modest rate.

    every 1/rate s (on schedule, whatever earlier journeys do):
      lobby  GET /  ─▶ leaderboard GET /leaderboard?game=g ─▶ login POST /login
             ─▶ start_match POST /matches ─▶ submit_score POST /matches/<id>/score (if a match started)

Each step is one request on the journey's own keep-alive connection, bounded by `timeout_s`; a
step that fails (5xx, 4xx, timeout, refused) is recorded and the journey goes on with the next
step that does not need it, so every journey measures every route. At most `max_journeys` run at
once; a journey due while that many are stuck is recorded as failed (`busy`) rather than queued,
so a stalled site can never stall the probe.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from lab.monitor.http import Connection
from lab.monitor.signals import ProbeResult

GAMES = ("tetra", "snake", "pong", "invaders", "racer")
STEPS = ("lobby", "leaderboard", "login", "start_match", "submit_score")


@dataclass(frozen=True)
class ProbeConfig:
    """How often journeys start and how long one step may take."""

    rate: float = 2.0  # journeys per second (about 5 requests each)
    timeout_s: float = 2.0
    max_journeys: int = 16
    players: int = 10_000


class Probe:
    """Walks journeys against host:port and hands each step's result to `record`."""

    def __init__(self, host: str, port: int, config: ProbeConfig, record: Callable[[ProbeResult], None],
                 seed: int | None = None):
        self.host, self.port = host, port
        self.config = config
        self.record = record
        self.rng = random.Random(seed)
        self.active: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Start journeys on schedule until cancelled; cancel every journey on the way out."""
        interval = 1.0 / self.config.rate
        due = time.monotonic()
        try:
            while True:
                if len(self.active) >= self.config.max_journeys:  # as bad for users as a timeout
                    self._result("lobby", False, self.config.timeout_s, "busy")
                else:
                    task = asyncio.create_task(self._journey())
                    self.active.add(task)
                    task.add_done_callback(self.active.discard)
                due += interval
                delay = due - time.monotonic()
                if delay < -5 * interval:  # the loop was blocked: skip ahead rather than burst
                    due = time.monotonic()
                await asyncio.sleep(max(delay, 0.0))
        finally:
            for task in list(self.active):
                task.cancel()
            if self.active:
                await asyncio.gather(*self.active, return_exceptions=True)

    async def _journey(self) -> None:
        conn = Connection(self.host, self.port)
        player = self.rng.randint(1, self.config.players)
        game = self.rng.choice(GAMES)
        try:
            await self._step(conn, "lobby", "GET", "/")
            await self._step(conn, "leaderboard", "GET", f"/leaderboard?game={game}")
            await self._step(conn, "login", "POST", "/login", {"username": f"player{player}", "password": "arcade"})
            started = await self._step(conn, "start_match", "POST", "/matches", {"player_id": player, "game": game})
            if started is not None and isinstance(started, dict) and "match_id" in started:
                await self._step(conn, "submit_score", "POST", f"/matches/{started['match_id']}/score",
                                 {"score": self.rng.randint(0, 100_000)})
        finally:
            conn.close()

    async def _step(self, conn: Connection, step: str, method: str, path: str, body: object = None) -> object:
        """One request: record its result; return its JSON body on success, else None."""
        start = time.monotonic()
        try:
            resp = await asyncio.wait_for(conn.request(method, path, body), self.config.timeout_s)
        except asyncio.TimeoutError:
            self._result(step, False, time.monotonic() - start, "timeout")
            return None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            self._result(step, False, time.monotonic() - start, "error")
            return None
        ok = 200 <= resp.status < 300
        self._result(step, ok, time.monotonic() - start, str(resp.status))
        if not ok or step != "start_match":
            return None
        try:
            return resp.json()
        except ValueError:
            return None

    def _result(self, step: str, ok: bool, latency: float, outcome: str) -> None:
        self.record(ProbeResult(time.time(), step, ok, latency, outcome))
