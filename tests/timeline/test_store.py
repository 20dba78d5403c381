"""The timeline store: fsynced appends survive kill -9 of the writer; a torn line is tolerated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.core.timeline import Event, Source
from lab.timeline.store import TimelineStore

WRITER = """
import sys
from pathlib import Path
from lab.core.timeline import Source
from lab.timeline.store import TimelineStore
store = TimelineStore(Path(sys.argv[1]))
for i in range(10_000):
    event = store.append(Source.TEAM, "note", "writer", {"i": i, "text": "x" * 100})
    sys.stdout.write(f"{event.id}\\n")
    sys.stdout.flush()
"""


def test_every_acknowledged_event_survives_kill_9(tmp_path):
    path = tmp_path / "events.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    acked: list[int] = []
    assert proc.stdout is not None
    while len(acked) < 1500:
        line = proc.stdout.readline()
        assert line, "the writer stopped early"
        acked.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acked += [int(x) for x in proc.stdout.read().split()]  # acknowledged before the kill landed
    on_disk = {e.id for e in TimelineStore(path).read()}
    assert set(acked) <= on_disk
    assert sorted(on_disk) == list(range(1, len(on_disk) + 1))


def test_a_torn_last_line_is_skipped_and_ids_go_on(tmp_path):
    path = tmp_path / "events.jsonl"
    store = TimelineStore(path)
    store.append(Source.RUNNER, "drill.started", "lab", {})
    store.append(Source.TEAM, "ack", "alice", {})
    with open(path, "a") as fh:
        fh.write('{"id": 3, "kind": "no')  # a crash mid-write
    assert [e.kind for e in store.read()] == ["drill.started", "ack"]
    with open(path, "a") as fh:
        fh.write("\n")
    event = store.append(Source.TEAM, "note", "bob", {"text": "after the crash"})
    assert event.id == 3 and [e.id for e in store.read()] == [1, 2, 3]


def test_events_round_trip_and_the_source_is_an_enum(tmp_path):
    store = TimelineStore(tmp_path / "e.jsonl")
    written = store.append(Source.OBSERVER, "db.restarted", "observer", {"before": "a"}, offset_s=12.5)
    (read,) = store.read()
    assert read == written and read.source is Source.OBSERVER and read.offset_s == 12.5
    assert Event.from_json(written.to_json()) == written
    forged = json.loads(written.to_json())
    forged["source"] = "somebody"
    with pytest.raises(ValueError):
        Event.from_json(json.dumps(forged))


def test_concurrent_writers_never_share_an_id(tmp_path):
    path = tmp_path / "events.jsonl"
    script = WRITER.replace("range(10_000)", "range(300)")
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.DEVNULL) for _ in range(3)]
    deadline = time.monotonic() + 60
    for proc in procs:
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    ids = [e.id for e in TimelineStore(path).read()]
    assert sorted(ids) == list(range(1, 901))


def test_a_torn_last_line_is_reported_once_and_the_next_event_starts_a_fresh_line(tmp_path, caplog):
    path = tmp_path / "events.jsonl"
    store = TimelineStore(path)
    store.append(Source.RUNNER, "drill.started", "lab", {})
    with open(path, "ab") as fh:
        fh.write(b'{"id": 2, "kind": "no\xe9')  # a crash mid-write, cut inside a character
    with caplog.at_level("WARNING", logger="lab.timeline"):
        assert [e.kind for e in store.read()] == ["drill.started"]
        assert [e.kind for e in store.read()] == ["drill.started"]  # a second read (gameday timeline -f) stays quiet
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "events.jsonl: skipped 1 line(s) that are not timeline events: line 2 (a torn last line" in warning
    assert store.skipped == [2]
    event = store.append(Source.TEAM, "note", "bob", {"text": "after the crash"})  # no newline written by hand
    assert event.id == 2 and [e.id for e in store.read()] == [1, 2]
    assert path.read_bytes().count(b"\n") == 3  # the torn line stays alone on its line


def test_gameday_timeline_shows_the_events_and_one_warning_for_a_torn_line(tmp_path):
    run = tmp_path / "run"
    store = TimelineStore(run / "events.jsonl")
    store.append(Source.RUNNER, "drill.started", "lab", {})
    store.append(Source.TEAM, "ack", "alice", {})
    with open(run / "events.jsonl", "ab") as fh:
        fh.write(b"\x00\x00\x00{\"id\": 3")  # a crash that left zeros and half a line
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "timeline", str(run)], capture_output=True, text=True,
                          env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "drill.started" in proc.stdout and "ack" in proc.stdout
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "skipped 1 line(s)" in lines[0] and "line 3" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
