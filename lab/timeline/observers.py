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

from lab.core.timeline import Event, Source
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


# What the lab itself does that an observer would also see: team actions run through the lab
# (not commands typed in the recorded shell: those happened outside it) and the runner's faults.
LAB_CAUSES: dict[str, tuple[set[str], set[str]]] = {
    # observed kind: (team actions, fault kinds)
    "db.restarted": ({"restart:db"}, {"db_restart", "db_stop", "db_max_connections"}),
    "db.connections_terminated": ({"terminate-idle-connections", "kill-query", "restart:db"},
                                  {"connection_hog", "lock_contention", "ddl_lock_queue", "slow_query", "db_restart",
                                   "db_stop", "db_max_connections", "traffic_surge"}),
    "web.restarted": ({"restart:web", "rollback-deploy", "enable-pooler"}, {"bad_deploy"}),
    "web.scaled": ({"scale-web", "restart:web", "rollback-deploy", "enable-pooler"}, {"bad_deploy", "web_worker_kill"}),
}
EXPLAIN_WINDOW_S = 3.0  # a lab event this long before the change explains it (observers poll every 0.5 s)


def _explains(kind: str, source: Source, data: dict[str, Any]) -> bool:
    actions, faults = LAB_CAUSES.get(kind, (set(), set()))
    if source is Source.TEAM and data.get("via") is None:
        name = str(data.get("action", ""))
        service = (data.get("args") or {}).get("service")
        return name in actions or bool(service and f"{name}:{service}" in actions)
    if source is Source.RUNNER:
        return data.get("kind") in faults
    return False


def explained_by(kind: str, observed_wall: float, events: list[Event],
                 in_flight: list[tuple[Source, dict[str, Any]]] = ()) -> str | None:  # type: ignore[assignment]
    """What of the lab's own doing explains an observed change (pure): an action or fault still
    running (`in_flight`: its event is written when it ends), or one that ended within
    EXPLAIN_WINDOW_S. None: the change was made outside the lab."""
    for source, data in in_flight:
        if _explains(kind, source, data):
            return f"in flight: {data.get('action') or data.get('kind')}"
    for event in reversed(events):
        if observed_wall - EXPLAIN_WINDOW_S <= event.wall and event.kind.startswith(("action.", "fault.")):
            if _explains(kind, event.source, event.data):
                return f"event {event.id}"
    return None


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
