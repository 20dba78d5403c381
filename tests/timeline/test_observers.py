"""Observers: changes made outside the lab's commands land on the drill's timeline."""

from __future__ import annotations

import os
import sys
import signal
import subprocess
import time

import psycopg2
import pytest

from lab.stack import procs
from lab.timeline.observers import Snapshot, changes, file_settings, setting_changes
from lab.timeline.store import TimelineStore

pytestmark = pytest.mark.integration


def observed(run_dir, kind, since: int, timeout: float) -> list:
    store = TimelineStore(run_dir / "events.jsonl")
    found: list = []

    def check() -> bool:
        found[:] = [e for e in store.read()[since:] if e.source.value == "observer" and e.kind == kind]
        return bool(found)

    procs.wait_until(check, timeout, 0.05)
    return found


def test_a_db_restart_with_pg_ctl_is_observed_within_two_seconds(drill):
    stack, run_dir, _env = drill
    since = len(TimelineStore(run_dir / "events.jsonl").read())
    cluster = stack.cluster()
    account = procs.service_user()
    started = time.monotonic()
    # pg_ctl restarts with the options the server was started with (postmaster.opts)
    subprocess.run([cluster.pgbin.tool("pg_ctl"), "restart", "-D", str(cluster.datadir.resolve()), "-m", "fast", "-w"],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   user=account.pw_name if account else None, timeout=30)
    restarted = time.monotonic()
    events = observed(run_dir, "db.restarted", since, 2.0)
    assert events, "no observer event within 2 s of the restart"
    assert time.monotonic() - restarted < 2.0 and restarted > started
    assert stack.sql("SELECT 1") == [(1,)]  # the stack follows the new postmaster


def test_terminated_sessions_and_a_killed_web_master_are_observed(drill):
    stack, run_dir, _env = drill
    since = len(TimelineStore(run_dir / "events.jsonl").read())
    victim = psycopg2.connect(stack.app_dsn(via_proxy=False, application_name="victim"))  # one to terminate for sure
    stack.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'arcade'")
    assert observed(run_dir, "db.connections_terminated", since, 3)
    victim.close()
    workers = stack.web_workers()
    os.kill(workers[0], signal.SIGTERM)  # gunicorn replaces it: the count dips, then recovers
    stack.scale_web(3)
    assert observed(run_dir, "web.scaled", since, 3)
    stack.scale_web(2)


def test_changes_the_lab_made_itself_are_not_observed_again(drill):
    stack, run_dir, env = drill
    time.sleep(1.5)  # earlier changes made by hand are observed first
    since = len(TimelineStore(run_dir / "events.jsonl").read())
    for args in (("act", "restart", "web"), ("act", "scale-web", "3"), ("act", "scale-web", "2")):
        result = subprocess.run([sys.executable, "-m", "lab.cli", *args, "--name", "act"], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    time.sleep(2.0)  # four observer ticks
    kinds = [e.kind for e in TimelineStore(run_dir / "events.jsonl").read()[since:]]
    assert kinds.count("action.restart") == 1 and kinds.count("action.scale-web") == 2
    assert not [k for k in kinds if k.startswith("web.")], kinds


@pytest.mark.parametrize(("before", "after", "kinds"), [
    (Snapshot("a", 1, 10, 2), Snapshot("b", 0, 10, 2), ["db.restarted"]),
    (Snapshot("a", 1, 10, 2), Snapshot("a", 4, 10, 2), ["db.connections_terminated"]),
    (Snapshot("a", 1, 10, 2), Snapshot("a", 1, 11, 2), ["web.restarted"]),
    (Snapshot("a", 1, 10, 2), Snapshot("a", 1, 10, 4), ["web.scaled"]),
    (Snapshot("a", 1, 10, 2), Snapshot(None, None, None, None), []),
])
def test_changes_between_snapshots(before, after, kinds):
    assert [k for k, _ in changes(before, after)] == kinds


AUTO, CONF = "postgresql.auto.conf", "postgresql.conf"


@pytest.mark.parametrize(("before", "after", "seen"), [
    ({}, {(AUTO, "max_connections"): "8000"}, [("max_connections", "8000", None, AUTO)]),
    ({(AUTO, "work_mem"): "4MB"}, {(AUTO, "work_mem"): "8MB"}, [("work_mem", "8MB", "4MB", AUTO)]),
    ({(AUTO, "work_mem"): "4MB"}, {}, [("work_mem", None, "4MB", AUTO)]),  # ALTER SYSTEM RESET: the line is gone
    ({(CONF, "work_mem"): "4MB"}, {(CONF, "work_mem"): "4MB", (AUTO, "work_mem"): "8MB"},
     [("work_mem", "8MB", None, AUTO)]),
    ({(AUTO, "a"): "1"}, {(AUTO, "a"): "1", (AUTO, "b"): "2", (CONF, "c"): "3"},
     [("b", "2", None, AUTO), ("c", "3", None, CONF)]),  # one event per setting
    ({(AUTO, "a"): "1"}, {(AUTO, "a"): "1"}, []),
    ({(AUTO, "a"): "1"}, None, []),  # unreadable this tick: nothing
    (None, {(AUTO, "a"): "1"}, []),  # nothing known before: the starting point
])
def test_one_event_per_setting_a_file_now_sets_otherwise(before, after, seen):
    found = setting_changes(before, after)
    assert {k for k, _ in found} <= {"db.setting_changed"}
    assert [(d["name"], d["value"], d["before"], d["file"]) for _, d in found] == seen


def test_the_last_line_for_a_setting_in_a_file_is_the_one_it_sets():
    rows = [["/pg/data/postgresql.conf", "max_connections", "100"], ["/pg/data/postgresql.conf", "work_mem", "4MB"],
            ["/pg/data/postgresql.conf", "work_mem", "5MB"], ["/pg/data/postgresql.auto.conf", "max_connections", "8000"]]
    assert file_settings(rows) == {(CONF, "max_connections"): "100", (CONF, "work_mem"): "5MB",
                                   (AUTO, "max_connections"): "8000"}
    snap = Snapshot("a", 1, 10, 2, file_settings(rows[:3]))
    assert changes(snap, Snapshot("b", 0, 10, 2, file_settings(rows))) == [
        ("db.restarted", {"before": "a", "after": "b"}),
        ("db.setting_changed", {"name": "max_connections", "value": "8000", "before": None, "file": AUTO})]


def test_a_setting_written_by_hand_with_alter_system_is_observed_and_its_reset_too(drill):
    stack, run_dir, _env = drill
    since = len(TimelineStore(run_dir / "events.jsonl").read())
    conn = psycopg2.connect(stack.admin_target().dsn(5, "by-hand"))  # outside the lab: no toolbox, no shell
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET work_mem = '6MB'")
            assert procs.wait_until(
                lambda: [e for e in observed(run_dir, "db.setting_changed", since, 0.1) if e.data["value"] == "6MB"], 3)
            cur.execute("ALTER SYSTEM RESET work_mem")
            assert procs.wait_until(
                lambda: [e for e in observed(run_dir, "db.setting_changed", since, 0.1) if e.data["value"] is None], 3)
    finally:
        conn.close()
    found = observed(run_dir, "db.setting_changed", since, 0.1)
    assert [(e.data["name"], e.data["value"], e.data["file"]) for e in found] == [
        ("work_mem", "6MB", AUTO), ("work_mem", None, AUTO)]


def test_the_toolbox_setting_a_value_is_not_observed_again(drill):
    stack, run_dir, env = drill
    time.sleep(1.0)  # earlier changes made by hand are observed first
    since = len(TimelineStore(run_dir / "events.jsonl").read())
    for value in ("7MB", "4MB"):
        result = subprocess.run([sys.executable, "-m", "lab.cli", "act", "set-db-setting", "work_mem", value,
                                 "--name", "act"], env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
    time.sleep(1.5)  # three observer ticks
    kinds = [e.kind for e in TimelineStore(run_dir / "events.jsonl").read()[since:]]
    assert kinds.count("action.set-db-setting") == 2 and "db.setting_changed" not in kinds, kinds
    stack.sql("ALTER SYSTEM RESET work_mem")
