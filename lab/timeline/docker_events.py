"""Observers of a stack made of containers (compose): what happens to its containers, from the
Docker events stream, and the sessions terminated in PostgreSQL, polled. Recorded with source
`observer`, like the embedded stack's observers and with the same event kinds.

    docker events (the project's containers) ──▶ queue ──▶ every half second:
        db   start (any: docker restart, stop + start, a recreate)   ──▶ db.restarted
        web  create / destroy / start / die, settled for a second    ──▶ web.scaled (running count changed)
                                                                       or web.restarted (same count)
        pg_stat_database.sessions_killed grew                         ──▶ db.connections_terminated
        pg_file_settings: a setting written, changed or removed        ──▶ db.setting_changed (one each)
                          (the same query as the embedded stack's observers: observers.DB_SQL)
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from lab.stack.base import ContainerStack, EventStream
from lab.timeline.observers import Settings, read_db, setting_changes

Record = Callable[[str, dict[str, Any]], object]


class ContainerObservers:
    """Docker events and a light poll on two threads; stopped on every path by `with`."""

    def __init__(self, stack: ContainerStack, record: Record, interval: float = 0.5, settle_s: float = 1.0):
        self.stack = stack
        self.record = record
        self.interval = interval
        self.settle_s = settle_s
        self._stop = threading.Event()
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._stream: EventStream | None = None
        self._listener = threading.Thread(target=self._listen, name="gameday-docker-events", daemon=True)
        self._poller = threading.Thread(target=self._poll, name="gameday-observers", daemon=True)
        self._web_count = len(stack.containers("web", running=True))
        self._web_ids = {c["Id"] for c in stack.containers("web")}
        self._web_changed_at: float | None = None
        self._web_started_again = False
        self._sessions_killed: int | None = None
        self._settings: Settings | None = None
        self._check_db()  # the starting point: nothing recorded yet
        self._ready = threading.Event()

    # --- threads ---------------------------------------------------------------------------

    def _listen(self) -> None:
        try:
            self._stream = self.stack.container_events(since=time.time() - 1)
            self._ready.set()
            for event in self._stream:
                if self._stop.is_set():
                    break
                self._events.put(event)
        except Exception:  # the stream closed (stopping) or the engine went away: nothing more to see
            pass
        finally:
            self._ready.set()

    def _poll(self) -> None:
        started = time.time() - 1
        while not self._stop.wait(self.interval):
            try:
                self._drain(started)
                self._settle_web()
                self._check_db()
            except Exception:  # the stack is going down: nothing to observe
                continue

    # --- what the events mean --------------------------------------------------------------------

    def _drain(self, started: float) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return
            if event.get("time", started) < started:
                continue
            attrs = event.get("Actor", {}).get("Attributes", {})
            service = attrs.get("com.docker.compose.service")
            action = event.get("Action") or event.get("status")
            if attrs.get("com.docker.compose.oneoff") == "True":
                continue
            if service == "db" and action == "start":
                self.record("db.restarted", {"container": attrs.get("name"), "seen": "docker start"})
            elif service == "web":
                self._web_changed_at = time.monotonic()
                if action == "start" and event.get("id") in self._web_ids:
                    self._web_started_again = True
                if action == "create":
                    self._web_ids.add(event.get("id", ""))

    def _settle_web(self) -> None:
        if self._web_changed_at is None or time.monotonic() - self._web_changed_at < self.settle_s:
            return
        self._web_changed_at = None
        running = self.stack.containers("web", running=True)
        count = len(running)
        if count != self._web_count:
            self.record("web.scaled", {"before": self._web_count, "after": count, "seen": "docker events"})
            self._web_count = count
        elif self._web_started_again or {c["Id"] for c in running} - self._web_ids:
            self.record("web.restarted", {"containers": count, "seen": "docker events"})
        self._web_started_again = False
        self._web_ids |= {c["Id"] for c in self.stack.containers("web")}

    def _check_db(self) -> None:
        try:
            _start, killed, settings = read_db(self.stack)
        except Exception:  # paused, stopped or full: try again next tick
            return
        if self._sessions_killed is not None and killed > self._sessions_killed:
            self.record("db.connections_terminated", {"count": killed - self._sessions_killed})
        self._sessions_killed = killed  # after a restart the counter starts again from zero
        for kind, data in setting_changes(self._settings, settings):
            self.record(kind, data)
        self._settings = settings

    # --- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> ContainerObservers:
        self._listener.start()
        self._ready.wait(5)
        self._poller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:
                pass
        self._poller.join(5)
        self._listener.join(2)
