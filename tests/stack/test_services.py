"""Each per-service operation of the embedded stack has its real effect on real processes."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import psutil
import pytest

from lab.stack import procs

pytestmark = pytest.mark.integration


def _readyz(stack, timeout: float = 5.0) -> tuple[int | None, dict]:
    """(HTTP status, JSON body) of Arcade's /readyz; (None, {}) when nothing answers in time."""
    url = stack.urls()["arcade"] + "readyz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return None, {}


def _until_ready(stack, timeout: float = 15.0) -> bool:
    return procs.wait_until(lambda: _readyz(stack)[0] == 200, timeout, interval=0.1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    from lab.stack.config import load_config
    from lab.stack.local import LocalStack

    root = tmp_path_factory.mktemp("gd")
    s = LocalStack("svc", root, load_config(None, ["web.request_timeout_s=2", "web.workers=2"]))
    s.up()
    yield s
    s.down(purge=True)


def _health(stack, service: str) -> str:
    return {s.name: s.health for s in stack.status().services}[service]


def _db_pid(stack) -> int:
    return stack.state().services["db"].pid


def _web_pid(stack) -> int:
    return stack.state().services["web"].pid


def test_db_restart_gives_a_new_postmaster_and_arcade_recovers(stack):
    before_pid = _db_pid(stack)
    (before_start,), = stack.sql("SELECT pg_postmaster_start_time()")
    stack.service("db").restart()
    assert _db_pid(stack) != before_pid and not procs.alive(before_pid)
    (after_start,), = stack.sql("SELECT pg_postmaster_start_time()")
    assert after_start > before_start
    assert _until_ready(stack)


def test_db_stop_makes_arcade_report_db_unavailable_then_start_heals(stack):
    stack.service("db").stop()
    try:
        status, body = _readyz(stack)
        assert status == 503 and body["error"] == "db_unavailable"
        assert _health(stack, "db") == "stopped"
    finally:
        stack.service("db").start()
    assert _until_ready(stack)


def test_db_pause_freezes_every_backend_and_arcade_answers_db_timeout(stack):
    pid = _db_pid(stack)
    stack.service("db").pause()
    try:
        states = {p.status() for p in procs.tree(pid)}
        assert states == {psutil.STATUS_STOPPED}
        started = time.monotonic()
        status, body = _readyz(stack, timeout=10)
        elapsed = time.monotonic() - started
        assert status == 503 and body["error"] in ("db_timeout", "db_unavailable")
        assert elapsed < 2 + 3 + 1  # request deadline (2 s) or connect timeout, never a hang
        assert _health(stack, "db") == "paused"
    finally:
        stack.service("db").resume()
    assert {p.status() for p in procs.tree(pid)} <= {psutil.STATUS_SLEEPING, psutil.STATUS_RUNNING}
    assert _until_ready(stack)


def test_web_stop_start_and_restart(stack):
    old = _web_pid(stack)
    stack.service("web").stop()
    assert _readyz(stack, timeout=2)[0] is None
    assert not procs.alive(old)
    stack.service("web").start()
    assert _until_ready(stack)
    mid = _web_pid(stack)
    stack.service("web").restart()
    assert _web_pid(stack) not in (old, mid)
    assert _until_ready(stack)


def test_web_pause_stops_answering_and_resume_answers_again(stack):
    stack.service("web").pause()
    try:
        assert _readyz(stack, timeout=1)[0] is None
        assert _health(stack, "web") == "paused"
    finally:
        stack.service("web").resume()
    assert _until_ready(stack)


def test_scale_web_changes_the_worker_processes(stack):
    assert len(stack.web_workers()) == 2
    assert stack.scale_web(4) == 4
    assert len(stack.web_workers()) == 4
    assert stack.scale_web(1) == 1
    assert len(stack.web_workers()) == 1
    assert _until_ready(stack)
    stack.scale_web(2)


def test_logs_show_the_services_output(stack):
    assert "Booting worker" in stack.logs("web", 200) or "Listening at" in stack.logs("web", 200)
    assert stack.logs("db", 200) is not None
