"""terminate-blocking on a real stack: with a DDL queued behind a maintenance holder, it ends the
DDL only (waiting_only) or both, and the table answers again (checked over HTTP and as the admin)."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from lab.actions.base import ActionContext
from lab.actions.perform import perform
from lab.errors import UsageError
from lab.faults import engine
from lab.stack import procs

pytestmark = pytest.mark.integration


def lobby(stack) -> int | None:
    try:
        with urllib.request.urlopen(stack.urls()["arcade"], timeout=8) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def apps(stack) -> list[str]:
    return sorted(r[0] for r in stack.sql("SELECT application_name FROM pg_stat_activity "
                                          "WHERE application_name IN ('arcade-migrate', 'vacuum-freeze')"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    s = LocalStack("blk", tmp_path_factory.mktemp("gd"),
                   load_config(None, ["web.statement_timeout_ms=1500", "web.request_timeout_s=3", "loadgen.enabled=false"]))
    s.up()
    yield s
    engine.revert_all(s)
    s.down(purge=True)


@pytest.mark.parametrize(("waiting_only", "left"), [(True, ["vacuum-freeze"]), (False, [])])
def test_the_queue_clears(stack, waiting_only, left):
    fid = engine.inject(stack, "ddl_lock_queue", {"table": "scores", "ddl": "drop_trigger", "blocker": "maintenance",
                                                  "delay_s": 0.2})
    try:
        assert lobby(stack) == 503
        done = perform("terminate-blocking", {"waiting_only": waiting_only}, ActionContext(stack, "tester"))
        assert done.ok and done.kind == "action.terminate-blocking"
        ended = sorted(s["application"] for s in done.data["result"]["sessions"] if s["terminated"])
        assert ended == (["arcade-migrate"] if waiting_only else ["arcade-migrate", "vacuum-freeze"])
        assert procs.wait_until(lambda: lobby(stack) == 200, 10)
        if left:  # the holder kept running
            assert apps(stack) == left
    finally:
        engine.revert_id(stack, fid)


def test_nothing_blocked_terminates_nothing(stack):
    done = perform("terminate-blocking", {}, ActionContext(stack, "tester"))
    assert done.ok and done.data["result"] == {"terminated": 0, "sessions": []}


def test_bad_arguments_are_refused_before_anything_runs(stack):
    with pytest.raises(UsageError, match="terminate-blocking: waiting_onl: unknown argument; did you mean 'waiting_only'"):
        perform("terminate-blocking", {"waiting_onl": True}, ActionContext(stack, "tester"))
