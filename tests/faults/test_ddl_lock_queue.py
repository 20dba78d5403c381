"""ddl_lock_queue on a real stack: the DDL waits behind its holder, the table's queries queue
behind the DDL (seen over HTTP and as the admin in pg_stat_activity, never through the fault's
own code); clearing the queue removes the cause; revert leaves the schema as it was."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from lab.faults import engine
from lab.stack import procs

pytestmark = pytest.mark.integration


def status(stack, path: str, timeout: float = 8) -> int | None:
    try:
        with urllib.request.urlopen(stack.urls()["arcade"] + path, timeout=timeout) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def sessions(stack, application: str) -> list[tuple]:
    return stack.sql("SELECT pid, state, wait_event_type, query FROM pg_stat_activity WHERE application_name = %s",
                     (application,))


def schema_objects(stack) -> list[tuple]:
    return stack.sql("SELECT 'constraint', conname FROM pg_constraint WHERE conname LIKE 'gameday_%%' "
                     "UNION ALL SELECT 'trigger', tgname FROM pg_trigger WHERE tgname LIKE 'gameday_%%' "
                     "UNION ALL SELECT 'function', proname FROM pg_proc WHERE proname LIKE 'gameday_%%'")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    config = load_config(None, ["web.statement_timeout_ms=1500", "web.request_timeout_s=3", "loadgen.enabled=false"])
    s = LocalStack("ddlq", tmp_path_factory.mktemp("gd"), config)
    s.up()
    yield s
    engine.revert_all(s)
    s.down(purge=True)


def test_a_migration_behind_an_open_report_blocks_the_table_until_the_report_ends(stack):
    fid = engine.inject(stack, "ddl_lock_queue", {"table": "best_scores", "delay_s": 0.2})
    try:
        (ddl,) = sessions(stack, "arcade-migrate")
        assert ddl[1] == "active" and ddl[2] == "Lock" and ddl[3].startswith("ALTER TABLE best_scores ADD CONSTRAINT")
        (report,) = sessions(stack, "arcade-report")
        assert report[1] == "idle in transaction"
        # the report alone blocks no reader: the queue forms behind the waiting DDL
        assert stack.sql("SELECT pg_blocking_pids(%s)", (ddl[0],))[0][0] == [report[0]]
        assert status(stack, "leaderboard?game=tetra") == 503  # waits, then the statement timeout
        assert status(stack, "store") == 200  # other tables are untouched
        active = engine.journal_for(stack).active()[fid]
        assert engine.cause_present(stack, active)
        stack.sql("SELECT pg_terminate_backend(%s)", (report[0],))  # what a responder does
        assert procs.wait_until(lambda: not engine.cause_present(stack, active), 5)
        assert status(stack, "leaderboard?game=tetra") == 200
        assert ("constraint", "gameday_ddl_lock_queue_1") in schema_objects(stack)  # the migration went through
    finally:
        engine.revert_id(stack, fid)
    assert schema_objects(stack) == []
    assert sessions(stack, "arcade-migrate") == [] and sessions(stack, "arcade-report") == []


def test_a_maintenance_holder_comes_back_and_cancelling_the_ddl_clears_the_queue(stack):
    fid = engine.inject(stack, "ddl_lock_queue", {"table": "scores", "ddl": "drop_trigger", "blocker": "maintenance",
                                                  "delay_s": 0.2})
    try:
        assert ("trigger", "gameday_ddl_lock_queue_2") in schema_objects(stack)
        (holder,) = sessions(stack, "vacuum-freeze")
        assert holder[1] == "active" and "to prevent wraparound" in holder[3]
        (ddl,) = sessions(stack, "arcade-migrate")
        assert ddl[3].startswith("DROP TRIGGER") and ddl[2] == "Lock"
        assert status(stack, "") == 503  # the lobby reads scores
        assert status(stack, "leaderboard?game=tetra") == 200  # best_scores is not queued
        stack.sql("SELECT pg_terminate_backend(%s)", (holder[0],))
        assert procs.wait_until(lambda: len(sessions(stack, "vacuum-freeze")) == 1
                                and sessions(stack, "vacuum-freeze")[0][0] != holder[0], 10)  # it came back
        active = engine.journal_for(stack).active()[fid]
        assert not engine.cause_present(stack, active)  # meanwhile the DDL got its lock and finished
        assert ("trigger", "gameday_ddl_lock_queue_2") not in schema_objects(stack)
    finally:
        engine.revert_id(stack, fid)
    assert schema_objects(stack) == []
    assert procs.wait_until(lambda: sessions(stack, "vacuum-freeze") == [], 5)


def test_cancelling_the_waiting_ddl_ends_the_cause_and_keeps_the_schema(stack):
    fid = engine.inject(stack, "ddl_lock_queue", {"table": "matches", "delay_s": 0.2})
    try:
        (ddl,) = sessions(stack, "arcade-migrate")
        stack.sql("SELECT pg_cancel_backend(%s)", (ddl[0],))
        active = engine.journal_for(stack).active()[fid]
        assert procs.wait_until(lambda: not engine.cause_present(stack, active), 5)
        time.sleep(0.3)
        assert schema_objects(stack) == []  # a cancelled migration changed nothing
    finally:
        engine.revert_id(stack, fid)
