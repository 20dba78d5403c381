"""health_check_churn on a real stack: idle while /readyz passes; once the database stops
answering, Arcade's workers are replaced again and again (seen as new worker pids, not through
the fault's own code); revert stops the balancer and leaves a healthy site."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from lab.faults import engine
from lab.stack import procs

pytestmark = pytest.mark.integration


def ready(stack) -> bool:
    try:
        with urllib.request.urlopen(stack.urls()["arcade"] + "readyz", timeout=3) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    s = LocalStack("churn", tmp_path_factory.mktemp("gd"),
                   load_config(None, ["web.request_timeout_s=2", "web.pool_timeout_s=1", "loadgen.enabled=false"]))
    s.up()
    yield s
    engine.revert_all(s)
    s.down(purge=True)


def test_workers_are_replaced_only_while_the_health_check_fails(stack):
    # `up` returns once Arcade answers; its second worker may still be starting
    assert procs.wait_until(lambda: len(stack.web_workers()) == stack.settings().web.workers, 15, 0.1)
    before = set(stack.web_workers())
    fid = engine.inject(stack, "health_check_churn", {"check_every_ms": 100, "check_timeout_ms": 500,
                                                      "unhealthy_after": 2, "startup_queries": 1})
    try:
        time.sleep(1.5)
        assert set(stack.web_workers()) == before  # healthy: nothing replaced
        active = engine.journal_for(stack).active()[fid]
        assert not engine.cause_present(stack, active)
        stack.service("db").pause()
        try:
            replaced = procs.wait_until(lambda: len(before - set(stack.web_workers())) == len(before), 15, 0.1)
            assert replaced, "every worker present before the database froze was replaced"
            assert engine.cause_present(stack, active)
        finally:
            stack.service("db").resume()
        assert procs.wait_until(lambda: ready(stack), 20, 0.2)
    finally:
        engine.revert_id(stack, fid)
    data = engine.journal_for(stack).records()
    pid = next(r["data"]["pid"] for r in data if r.get("fault_id") == fid and r.get("op") == "injected")
    assert procs.wait_until(lambda: not procs.alive(pid), 5)
    workers = set(stack.web_workers())
    assert len(workers) == len(before) and ready(stack)
