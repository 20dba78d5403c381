"""The timeline of one run: an append-only JSONL file; each event is fsynced before `append` returns.

A torn last line (a crash mid-write) is skipped on read and reported as one warning line; every
acknowledged event survives.
"""

from __future__ import annotations

import fcntl
import gc
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from lab.core.timeline import Event, Source
from lab.errors import display
from lab.stack.files import after_torn_line

log = logging.getLogger("lab.timeline")


class TimelineStore:
    """Appends events for one run; safe across threads and processes (flock around each append)."""

    def __init__(self, path: Path, started_wall: float | None = None, started_mono: float | None = None):
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.started_wall = started_wall if started_wall is not None else time.time()
        self.started_mono = started_mono if started_mono is not None else time.monotonic()
        self.skipped: list[int] = []  # line numbers the last read() skipped
        self._reported: list[int] = []

    def append(self, source: Source, kind: str, actor: str, data: dict[str, Any] | None = None,
               offset_s: float | None = None) -> Event:
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                event = Event(
                    id=_last_id(fd) + 1,
                    wall=time.time(),
                    offset_s=round(offset_s if offset_s is not None else time.monotonic() - self.started_mono, 3),
                    source=source,
                    kind=kind,
                    actor=actor,
                    data=data or {},
                )
                os.write(fd, after_torn_line(fd) + event.to_json_bytes() + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        return event

    def read(self) -> list[Event]:
        """Every complete event, in order; a torn or foreign line is skipped, reported once as a
        one-line warning (logger lab.timeline) and listed in `skipped` (line numbers)."""
        self.skipped = []
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        # One parse for the whole file is several times faster than one per line, and the cyclic
        # garbage collector is held off while 100,000 small dicts are made (none of them forms a
        # cycle): left on, its repeated passes cost more than the parse itself.
        collecting = gc.isenabled()
        gc.disable()
        try:
            records = orjson.loads(b"[" + raw.rstrip(b"\n").replace(b"\n", b",") + b"]") if raw.strip() else []
            return [_event(r) for r in records]
        except (ValueError, TypeError, KeyError):
            pass
        finally:
            if collecting:
                gc.enable()
        out, skipped = [], []
        for number, line in enumerate(raw.splitlines(), 1):
            try:
                out.append(Event.from_json(line))
            except (ValueError, TypeError, KeyError):
                if line.strip():
                    skipped.append(number)
        self.skipped = skipped
        if skipped and skipped != self._reported:  # once per store, not at every read of a --follow
            self._reported = skipped
            torn = not raw.endswith(b"\n") and skipped[-1] == len(raw.splitlines())
            lines = ", ".join(map(str, skipped[:5])) + (", ..." if len(skipped) > 5 else "")
            log.warning("warning: %s: skipped %d line(s) that are not timeline events: line %s%s", display(self.path),
                        len(skipped), lines, " (a torn last line: the writer stopped mid-line, as in a crash)" if torn else "")
        return out

    def read_from(self, offset: int) -> tuple[list[Event], int]:
        """Complete events written at or after byte `offset`, and the offset to continue from
        (a line still being written is left for the next call)."""
        try:
            with open(self.path, "rb") as fh:
                fh.seek(offset)
                raw = fh.read()
        except FileNotFoundError:
            return [], offset
        end = raw.rfind(b"\n") + 1
        out = []
        for line in raw[:end].splitlines():
            try:
                out.append(Event.from_json(line))
            except (ValueError, TypeError, KeyError):
                continue
        return out, offset + end



_SOURCES = {s.value: s for s in Source}


def _event(r: dict) -> Event:  # type: ignore[type-arg]
    return Event(r["id"], r["wall"], r["offset_s"], _SOURCES[r["source"]], r["kind"], r["actor"], r.get("data") or {},
                 r.get("v", 1))


def _last_id(fd: int) -> int:
    """The id of the last complete event in the file (0 if none), reading only its tail."""
    size = os.fstat(fd).st_size
    chunk = min(size, 64 * 1024)
    if chunk == 0:
        return 0
    data = os.pread(fd, chunk, size - chunk)
    for line in reversed(data.splitlines()):
        try:
            return Event.from_json(line.decode()).id
        except (ValueError, TypeError, KeyError, UnicodeDecodeError):
            continue
    return 0
