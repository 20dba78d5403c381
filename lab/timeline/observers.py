"""Observers: notice changes made outside the lab's commands and its recorded shell (psql, pg_ctl,
kill in a second terminal) and record them on the drill's timeline with source `observer`.

Every half second: PostgreSQL's postmaster start time (a restart), its count of terminated
sessions (pg_stat_database.sessions_killed) and the settings its configuration files make (one
query for the three), Arcade's master pid (a restart) and worker count (a scale). A paused or
stopped database is skipped, never waited on.

Settings are read from pg_file_settings, the files as they are now (ALTER SYSTEM's
postgresql.auto.conf, or postgresql.conf edited by hand): a setting is seen when it is written,
before any reload or restart applies it, and each line for a setting that a file gains, changes or
loses is one `db.setting_changed {name, value, file}` (value None: the line is gone, as after
ALTER SYSTEM RESET). pg_settings is not compared: a reload applies only what those files already
said, and a restart is its own event.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any, cast

from lab.core.timeline import Event, Source
from lab.stack.base import ContainerStack, Stack

Record = Callable[[str, dict[str, Any]], object]


Settings = dict[tuple[str, str], str]  # (configuration file, setting name) -> the value written there


@dataclass
class Snapshot:
    postmaster_start: str | None = None
    sessions_killed: int | None = None
    web_pid: int | None = None
    web_workers: int | None = None
    file_settings: Settings | None = None


# One query a tick: restart, terminated sessions, and the settings written in the configuration
# files now (a line waiting for a restart carries an `error` and still counts; pg_file_settings
# needs the superuser).
DB_SQL = """
SELECT pg_postmaster_start_time()::text,
       (SELECT coalesce(sum(sessions_killed), 0)::bigint FROM pg_stat_database),
       (SELECT coalesce(json_agg(json_build_array(sourcefile, name, setting) ORDER BY seqno), '[]'::json)
          FROM pg_file_settings WHERE name IS NOT NULL)
"""


def read_db(stack: Stack) -> tuple[str, int, Settings]:
    """(postmaster start, sessions killed, file settings) of DB_SQL; raises when the DB cannot answer."""
    (start, killed, rows), = stack.sql(DB_SQL, dbname="postgres")
    return str(start), int(killed), file_settings(rows)


def file_settings(rows: Iterable[Any]) -> Settings:
    """{(file name, setting): value} from pg_file_settings rows [sourcefile, name, setting] in seqno
    order, the last line for a setting in a file winning (pure)."""
    return {(str(sourcefile or "").rsplit("/", 1)[-1], str(name)): str(setting) for sourcefile, name, setting in rows}


def setting_changes(before: Settings | None, after: Settings | None) -> list[tuple[str, dict[str, Any]]]:
    """One `db.setting_changed {name, value, before, file}` per setting a file now sets otherwise,
    value None when its line is gone (ALTER SYSTEM RESET) (pure; None: unknown, nothing)."""
    if before is None or after is None:
        return []
    out: list[tuple[str, dict[str, Any]]] = []
    for file, name in sorted(set(before) | set(after)):
        was, now = before.get((file, name)), after.get((file, name))
        if was != now:
            out.append(("db.setting_changed", {"name": name, "value": now, "before": was, "file": file}))
    return out


def snapshot(stack: Stack) -> Snapshot:
    """What the observers compare, read now (fields left None when unreadable)."""
    snap = Snapshot()
    state = stack.state()
    db = state.services["db"]
    if db.pid is not None and not db.paused:
        try:
            snap.postmaster_start, snap.sessions_killed, snap.file_settings = read_db(stack)
        except Exception:  # the database is restarting or full: try again next tick
            pass
    web = state.services.get("web")
    if web is not None and web.pid is not None:
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
    out += setting_changes(before.file_settings, after.file_settings)
    return out


if TYPE_CHECKING:
    from lab.actions.base import Action
    from lab.faults.base import Fault

OBSERVED_KINDS = ("db.restarted", "db.connections_terminated", "web.restarted", "web.scaled",
                  "db.setting_changed")  # what observers record

# What the lab itself does that an observer would also see: the team's acts (toolbox actions, and
# commands typed in the recorded shell that amount to one: the same act through another channel,
# recorded once) and the runner's faults.
Causes = dict[str, tuple[frozenset[str], frozenset[str]]]  # observed kind -> (team actions, fault kinds)
_causes: Causes | None = None


def causes_from(actions: Iterable[Action], faults: Iterable[Fault]) -> Causes:
    """The cause map from what each action and fault declares (`observed_as`), pure. A team action
    whose effect depends on an argument is named `name:arg=value` (restart:service=db)."""
    from lab.actions.base import ByArg

    by_action: dict[str, set[str]] = {}
    for action in actions:
        seen = action.observed_as
        named = ([(f"{action.name}:{seen.arg}={value}", kinds) for value, kinds in seen.kinds.items()]
                 if isinstance(seen, ByArg) else [(action.name, seen)])
        for name, kinds in named:
            for kind in kinds:
                by_action.setdefault(kind, set()).add(name)
    by_fault: dict[str, set[str]] = {}
    for fault in faults:
        for kind in fault.observed_as:
            by_fault.setdefault(kind, set()).add(fault.name)
    return {kind: (frozenset(by_action.get(kind, ())), frozenset(by_fault.get(kind, ())))
            for kind in sorted(set(by_action) | set(by_fault))}


def lab_causes() -> Causes:
    """The cause map of the registries (lab.actions.ACTIONS, lab.faults.FAULTS), built once."""
    global _causes
    if _causes is None:
        from lab.actions import ACTIONS
        from lab.faults import FAULTS

        _causes = causes_from(ACTIONS.values(), FAULTS.values())
    return _causes


EXPLAIN_WINDOW_S = 3.0  # a lab event this long before the change explains it (observers poll every 0.5 s)


def _explains(kind: str, source: Source, data: dict[str, Any], causes: Causes,
              observed: dict[str, Any] | None = None) -> bool:
    actions, faults = causes.get(kind, (frozenset(), frozenset()))
    if source is Source.TEAM and (data.get("via") is None or (data.get("via") == "shell" and data.get("ok", True))):
        name = str(data.get("action", ""))
        args = data.get("args") or {}
        return ((name in actions or any(f"{name}:{arg}={value}" in actions for arg, value in args.items()))
                and _same_setting(kind, observed, args))
    if source is Source.RUNNER:
        return data.get("kind") in faults
    return False


def _same_setting(kind: str, observed: dict[str, Any] | None, args: dict[str, Any]) -> bool:
    """A changed setting is explained only by an act on that setting to that value: the team's
    work_mem does not explain max_connections, nor a reset by hand right after the team set it."""
    if kind != "db.setting_changed" or observed is None:
        return True

    def plain(value: Any) -> str | None:
        return None if value is None else str(value).strip().strip("'\"").lower()

    return str(args.get("name")) == str(observed["name"]) and plain(args.get("value")) == plain(observed.get("value"))


def explained_by(kind: str, observed_wall: float, events: list[Event],
                 in_flight: list[tuple[Source, dict[str, Any]]] = (),  # type: ignore[assignment]
                 causes: Causes | None = None, observed: dict[str, Any] | None = None) -> str | None:
    """What of the lab's own doing explains an observed change (pure): an action or fault still
    running (`in_flight`: its event is written when it ends), or one that ended within
    EXPLAIN_WINDOW_S; a command typed in the recorded shell explains what its act declares when it
    succeeded. `observed`: the change's data; a setting's (`name`, `value`) must be the act's.
    None: the change was made outside the lab. `causes`: the cause map (default: lab_causes(),
    from the registries)."""
    causes = lab_causes() if causes is None else causes
    for source, data in in_flight:
        if _explains(kind, source, data, causes, observed):
            return f"in flight: {data.get('action') or data.get('kind')}"
    for event in reversed(events):
        if observed_wall - EXPLAIN_WINDOW_S <= event.wall and event.kind.startswith(("action.", "fault.")):
            if _explains(kind, event.source, event.data, causes, observed):
                return f"event {event.id}"
    return None


class Observers:
    """Polls a stack on a thread and records what changed; stopped on every path by `with`."""

    def __init__(self, stack: Stack, record: Record, interval: float = 0.5):
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


def observers_for(stack: Stack, record: Record,
                  interval: float = 0.5) -> contextlib.AbstractContextManager[object]:
    """The observers that fit the stack: the engine's container events where its services are
    containers, polling its processes otherwise."""
    if stack.capabilities.containers:
        from lab.timeline.docker_events import ContainerObservers

        return ContainerObservers(cast(ContainerStack, stack), record, interval)
    return Observers(stack, record, interval)
