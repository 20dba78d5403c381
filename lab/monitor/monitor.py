"""The monitor: probe, scrapes and alert rules on one event loop of its own, one tick a second.

    Probe (journeys, fixed rate) ──results──┐
    every second, 0.25 s past the boundary: ├─▶ Tick(t = the second just ended):
      PgSampler.sample()   (≤ db_timeout)   │     probe SLI, DB sample, Arcade sample, signals
      scrape_arcade()      (≤ scrape_timeout)┘   ─▶ evaluate(rules) ─▶ events ─▶ sink (JSONL)

It keeps its own sockets and its own DB connection, so it keeps ticking while Arcade and
PostgreSQL are overloaded or paused: a sample that does not come back in time is a sample with
an error, never a stalled tick. `MonitorThread` runs it beside synchronous code (tests, runner).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lab.monitor.events import AlertEvent, EventSink
from lab.stack.base import PgTarget, Stack
from lab.monitor.pgwatch import PgSampler
from lab.monitor.probe import Probe, ProbeConfig
from lab.monitor.rules import AlertRule, Phase, RuleState, Transition, default_rules, evaluate
from lab.monitor.scrape import scrape_arcade
from lab.monitor.signals import ArcadeSample, DbSample, ProbeResult, ProbeSli, probe_sli, signals_of


@dataclass(frozen=True)
class MonitorConfig:
    """Probe settings, alert rules and how long one scrape may take."""

    probe: ProbeConfig = ProbeConfig()
    rules: tuple[AlertRule, ...] = field(default_factory=default_rules)
    scrape_timeout_s: float = 0.6
    db_timeout_s: float = 0.6
    keep_s: int = 900


@dataclass(frozen=True)
class Tick:
    """Everything the monitor knew about one second."""

    t: int
    probe: ProbeSli
    db: DbSample | None
    arcade: ArcadeSample | None
    signals: dict[str, float | None]
    firing: tuple[str, ...]
    pending: tuple[str, ...]


def tick_record(tick: Tick) -> dict[str, object]:
    """One second as a plain record (for the SLI log and the report's SLO chart)."""
    p, db, arcade = tick.probe, tick.db, tick.arcade
    return {
        "t": tick.t,
        "probe": {"total": p.total, "ok": p.ok, "availability": p.availability, "p50_s": p.p50,
                  "p95_s": p.p95, "p99_s": p.p99, "max_s": p.max, "failures": p.failures},
        "db": None if db is None else {"error": db.error, "by_state": db.by_state, "ordinary": db.ordinary,
                                       "max_connections": db.max_connections, "reserved": db.reserved},
        "arcade": None if arcade is None else {"error": arcade.error, "db_in_use": arcade.db_in_use,
                                               "db_waiting": arcade.db_waiting, "db_errors": arcade.db_errors},
        "signals": tick.signals,
        "firing": list(tick.firing),
        "pending": list(tick.pending),
    }


class Monitor:
    """Watches one Arcade (and its PostgreSQL, if given) until cancelled."""

    def __init__(self, arcade_url: str, pg: PgTarget | None, config: MonitorConfig | None = None,
                 sink: EventSink | None = None, on_tick: Callable[[Tick], None] | None = None):
        parts = urlsplit(arcade_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.pg = pg
        self.config = config or MonitorConfig()
        self.sink = sink
        self.on_tick = on_tick
        self.ticks: deque[Tick] = deque(maxlen=self.config.keep_s)
        self.events: list[AlertEvent] = []
        self.states: dict[str, RuleState] = {}
        self._results: deque[ProbeResult] = deque()
        self._prev_arcade: ArcadeSample | None = None
        self.lock = threading.Lock()  # ticks and events are read from other threads

    def record(self, result: ProbeResult) -> None:
        self._results.append(result)

    async def run(self) -> None:
        """Probe and tick until cancelled."""
        probe = Probe(self.host, self.port, self.config.probe, self.record)
        sampler = PgSampler(self.pg, self.config.db_timeout_s) if self.pg else None
        probe_task = asyncio.create_task(probe.run())
        last = int(time.time()) - 1
        try:
            while True:
                now = time.time()
                await asyncio.sleep(int(now) + 1.25 - now)
                db, arcade = await self._sample(sampler)
                done = int(time.time()) - 1
                for second in range(max(last + 1, done - 5), done + 1):  # catch up, never skip
                    self._tick(second, db, arcade)
                last = done
        finally:
            probe_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await probe_task
            if sampler is not None:
                sampler.close()

    async def _sample(self, sampler: PgSampler | None) -> tuple[DbSample | None, ArcadeSample]:
        """Sample PostgreSQL and scrape Arcade at once, each within its own timeout."""
        db_task = asyncio.create_task(sampler.sample()) if sampler else None
        arcade = await scrape_arcade(self.host, self.port, self.config.scrape_timeout_s)
        db = await db_task if db_task else None
        return db, arcade

    def _tick(self, second: int, db: DbSample | None, arcade: ArcadeSample) -> None:
        while self._results and self._results[0].t < second - 5:
            self._results.popleft()
        sli = probe_sli(self._results, second)
        signals = signals_of(sli, db, arcade, self._prev_arcade)
        if not arcade.error:
            self._prev_arcade = arcade
        self.apply(second, signals, time.time())
        tick = Tick(second, sli, db, arcade, signals, self.firing(), self.pending())
        with self.lock:
            self.ticks.append(tick)
        if self.on_tick:
            self.on_tick(tick)

    def apply(self, second: float, signals: dict[str, float | None], now: float) -> list[AlertEvent]:
        """Evaluate the rules on one second's signals; record and emit what fired or resolved."""
        self.states, transitions = evaluate(self.config.rules, self.states, signals, second)
        out = [AlertEvent.of(tr, now) for tr in transitions]
        for event in out:
            with self.lock:
                self.events.append(event)
            if self.sink is not None:
                self.sink.emit(event)
        return out

    def firing(self) -> tuple[str, ...]:
        return tuple(n for n, s in self.states.items() if s.phase is Phase.FIRING)

    def pending(self) -> tuple[str, ...]:
        return tuple(n for n, s in self.states.items() if s.phase is Phase.PENDING)


class MonitorThread:
    """Runs a Monitor on its own thread and event loop; stopped on every path by `with`."""

    def __init__(self, monitor: Monitor):
        self.monitor = monitor
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._main, name="gameday-monitor", daemon=True)
        self._started = threading.Event()
        self.error: BaseException | None = None

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            self._task = loop.create_task(self.monitor.run())
            self._started.set()
            loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
        finally:
            self._started.set()
            loop.close()

    def start(self) -> MonitorThread:
        self._thread.start()
        self._started.wait(5)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error

    def __enter__(self) -> MonitorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def ticks(self) -> list[Tick]:
        with self.monitor.lock:
            return list(self.monitor.ticks)

    def events(self) -> list[AlertEvent]:
        with self.monitor.lock:
            return list(self.monitor.events)


@contextlib.contextmanager
def watching(stack: Stack, config: MonitorConfig | None = None, sink: EventSink | None = None) -> Iterator[MonitorThread]:
    """Monitor a running stack on a thread for the duration of the block."""
    monitor = Monitor(stack.urls()["arcade"], stack.admin_target(), config, sink)
    with MonitorThread(monitor) as thread:
        yield thread


__all__ = ["Monitor", "MonitorConfig", "MonitorThread", "Tick", "Transition", "tick_record", "watching"]
