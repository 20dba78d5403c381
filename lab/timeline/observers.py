"""Observers: notice changes made outside the lab's commands (psql, pg_ctl, kill, a second
terminal) and record them on the drill's timeline with source `observer`.

Every half second: PostgreSQL's postmaster start time (a restart), its count of terminated
sessions (pg_stat_database.sessions_killed), Arcade's master pid (a restart) and worker count
(a scale). A paused or stopped database is skipped, never waited on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import astuple, dataclass
from typing import Any

from lab.stack import procs
from lab.stack.local import LocalStack

Record = Callable[[str, dict[str, Any]], object]


@dataclass
class Snapshot:
    postmaster_start: str | None = None
    sessions_killed: int | None = None
    web_pid: int | None = None
    web_workers: int | None = None


def snapshot(stack: LocalStack) -> Snapshot:
    """What the observers compare, read now (fields left None when unreadable)."""
    snap = Snapshot()
    state = stack._require_up()
    db = state.services["db"]
    if procs.alive(db.pid) and not db.paused:
        try:
            (start, killed), = stack.sql(
                "SELECT pg_postmaster_start_time()::text, coalesce(sum(sessions_killed), 0)::bigint FROM pg_stat_database",
                dbname="postgres")
            snap.postmaster_start, snap.sessions_killed = start, int(killed)
        except Exception:  # the database is restarting or full: try again next tick
            pass
    web = state.services.get("web")
    if web is not None and procs.alive(web.pid):
        snap.web_pid = web.pid
        snap.web_workers = len(stack.web_workers())
    return snap


def changes(before: Snapshot, after: Snapshot) -> list[tuple[str, dict[str, Any]]]:
    """The observer events between two snapshots (pure)."""
    out: list[tuple[str, dict[str, Any]]] = []
    if before.postmaster_start and after.postmaster_start and before.postmaster_start != after.postmaster_start:
        out.append(("db.restarted", {"before": before.postmaster_start, "after": after.postmaster_start}))
    elif (before.sessions_killed is not None and after.sessions_killed is not None
          and after.sessions_killed > before.sessions_killed):
        out.append(("db.connections_terminated", {"count": after.sessions_killed - before.sessions_killed}))
    if before.web_pid and after.web_pid and before.web_pid != after.web_pid:
        out.append(("web.restarted", {"before_pid": before.web_pid, "after_pid": after.web_pid}))
    elif before.web_workers is not None and after.web_workers is not None and before.web_workers != after.web_workers:
        out.append(("web.scaled", {"before": before.web_workers, "after": after.web_workers}))
    return out


class Observers:
    """Polls a stack on a thread and records what changed; stopped on every path by `with`."""

    def __init__(self, stack: LocalStack, record: Record, interval: float = 0.5):
        self.stack = stack
        self.record = record
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gameday-observers", daemon=True)

    def _run(self) -> None:
        last = snapshot(self.stack)
        while not self._stop.wait(self.interval):
            try:
                now = snapshot(self.stack)
            except Exception:  # the stack is going down: nothing to observe
                continue
            for kind, data in changes(last, now):
                self.record(kind, data)
            # what could not be read this tick (a paused DB) keeps its last known value
            last = Snapshot(*(n if n is not None else o for n, o in zip(astuple(now), astuple(last))))

    def __enter__(self) -> Observers:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def observers_for(stack: LocalStack, record: Record, interval: float = 0.5):  # type: ignore[no-untyped-def]
    """The observers that fit the stack: Docker events for a compose stack, polling otherwise."""
    if getattr(stack, "mode", "local") == "compose":
        from lab.timeline.docker_events import ComposeObservers

        return ComposeObservers(stack, record, interval)
    return Observers(stack, record, interval)
