"""The Stack conformance suite: every kind of stack, the same calls, the same observable results.

A new kind must pass it to be accepted (docs/extending.md). The compose half runs where a Docker
engine answers; each kind gets one stack for the module (made once, since a compose stack takes
half a minute), and the tests leave it as they found it, but the last, which takes it down.
"""

from __future__ import annotations

import contextlib
import inspect
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from lab.errors import StackError, StackNotFoundError, UsageError
from lab.stack import base, procs
from lab.stack.base import SERVICES, Stack
from lab.stack.config import load_config
from lab.stack.engine import engine_answers
from lab.stack.open import KINDS, open_stack, stack_class

pytestmark = pytest.mark.integration
SETTINGS = ["db.max_connections=20", "web.workers=2", "web.connect_timeout_s=2", "web.request_timeout_s=4"]
DOCKER = engine_answers()


def _members(protocol: type) -> dict[str, object]:
    return {name: value for name, value in vars(protocol).items()
            if not name.startswith("_") and name not in ("__init__",)}


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_every_member_of_the_protocol_with_the_same_parameters(kind):
    cls = stack_class(kind)
    for name, member in _members(base.Stack).items():
        assert hasattr(cls, name) or name in ("name", "root", "run_dir"), f"{kind}: no {name}"
        if inspect.isfunction(member):
            want = list(inspect.signature(member).parameters)
            have = list(inspect.signature(getattr(cls, name)).parameters)
            assert have == want, f"{kind}.{name}{have} differs from the protocol's {want}"
    assert cls.kind == kind  # type: ignore[attr-defined]
    assert isinstance(cls.capabilities, base.Capabilities)  # type: ignore[attr-defined]


@pytest.fixture(scope="module", params=KINDS)
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    kind = request.param
    if kind == "compose" and not DOCKER:
        pytest.skip("no Docker engine answers (`docker info` fails)")
    if kind == "compose":
        request.getfixturevalue("compose_images")
    made = open_stack(f"conf-{kind}", tmp_path_factory.mktemp(f"conf-{kind}"), kind, load_config(None, SETTINGS))
    made.up()
    yield made
    made.down(purge=True)


def _healthy(stack: Stack) -> bool:
    return stack.status().healthy


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return 0


def test_up_gives_every_service_healthy_and_the_same_urls(stack):
    st = stack.status()
    assert st.healthy, st
    assert st.mode == stack.kind and st.name == stack.name
    assert {"arcade", "metrics", "postgres", "toxiproxy", "loadgen"} <= set(st.urls)
    assert set(stack.services) <= set(SERVICES) and {"db", "proxy", "web"} <= set(stack.services)
    assert st.db_max_connections == 20 and st.db_connections_used is not None
    assert _get(st.urls["arcade"] + "readyz") == 200
    assert stack.is_up()
    state = stack.state()
    assert all(svc.pid is not None and not svc.paused for svc in state.services.values())


def test_addresses_settings_and_the_shell_environment(stack):
    assert stack.address("web") == stack.urls()["arcade"].removeprefix("http://").rstrip("/")
    assert stack.settings().db.max_connections == 20
    env = stack.shell_env()
    conn = psycopg2.connect(host=env["PGHOST"], port=env["PGPORT"], user=env["PGUSER"], dbname=env["PGDATABASE"],
                            password=env.get("PGPASSWORD"))
    with contextlib.closing(conn), conn.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("gameday",)
    assert env["ARCADE_URL"] + "/" == stack.urls()["arcade"]
    with contextlib.closing(psycopg2.connect(stack.app_dsn())) as app, app.cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == ("arcade",)
    target = stack.admin_target()
    assert target.user == "gameday" and target.dbname == "postgres"


def test_admin_sql_gets_a_reserved_slot_while_arcades_are_all_taken(stack):
    held: list[psycopg2.extensions.connection] = []
    try:
        while len(held) < 40:
            try:
                held.append(psycopg2.connect(stack.app_dsn(via_proxy=False, application_name="conformance"),
                                             connect_timeout=3))
            except psycopg2.OperationalError as exc:
                assert "reserved" in str(exc) or "too many" in str(exc), exc
                break
        assert 0 < len(held) < 20  # the slots ran out before the reserved ones
        assert stack.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'conformance'") == \
            [(len(held),)]
    finally:
        for conn in held:
            conn.close()


@pytest.mark.parametrize("name", ["db", "web", "proxy", "loadgen"])
def test_restart_stop_start_pause_resume_kill_of_a_service(stack, name):
    service = stack.service(name)
    assert service.name == name
    before = stack.state().services[name].pid
    service.restart()
    assert procs.wait_until(lambda: _healthy(stack), 30, 0.2)
    assert stack.state().services[name].pid not in (None, before)

    service.stop()
    stopped = stack.state().services[name]
    assert stopped.pid is None and not stopped.paused
    assert {s.name: s.health for s in stack.status().services}[name] == "stopped"
    if name == "db":
        with pytest.raises(StackError, match="db is stopped"):
            stack.sql("SELECT 1")
    with pytest.raises(StackError, match="stopped; nothing to pause"):
        service.pause()
    service.start()
    assert procs.wait_until(lambda: _healthy(stack), 30, 0.2)
    with pytest.raises(UsageError, match="already running"):
        service.start()

    service.pause()
    assert stack.state().services[name].paused
    assert {s.name: s.health for s in stack.status().services}[name] == "paused"
    if name == "db":
        with pytest.raises(StackError, match="db is paused"):
            stack.sql("SELECT 1")
    service.resume()
    assert not stack.state().services[name].paused
    assert procs.wait_until(lambda: _healthy(stack), 30, 0.2)

    service.kill()
    assert procs.wait_until(lambda: stack.state().services[name].pid is None, 20, 0.2)
    service.start()
    assert procs.wait_until(lambda: _healthy(stack), 30, 0.2)
    assert service.logs(5) is not None and stack.logs(name, 5) is not None


def test_scale_web_up_and_down(stack):
    assert len(stack.web_workers()) == 2
    assert stack.scale_web(3) == 3
    assert procs.wait_until(lambda: len(stack.web_workers()) == 3, 30, 0.2)
    assert stack.scale_web(2) == 2
    assert procs.wait_until(lambda: len(stack.web_workers()) == 2, 30, 0.2)
    for bad in (0, 65):
        with pytest.raises(UsageError, match="valid: 1-64"):
            stack.scale_web(bad)


def test_settings_change_at_a_restart_and_features_switch_at_once(stack):
    stack.reconfigure(["web.flags=[broken_leaderboard]"], restart=("web",))
    assert stack.settings().web.flags == ["broken_leaderboard"]
    assert _get(stack.urls()["arcade"] + "leaderboard?game=tetra") == 500
    stack.reconfigure(["web.flags=[]"], restart=("web",))
    assert procs.wait_until(lambda: _get(stack.urls()["arcade"] + "leaderboard?game=tetra") == 200, 20, 0.2)
    assert stack.set_disabled_features(["store"]) == ["store"]
    assert procs.wait_until(lambda: _get(stack.urls()["arcade"] + "store") == 503, 10, 0.1)
    assert stack.set_disabled_features([]) == []
    assert procs.wait_until(lambda: _get(stack.urls()["arcade"] + "store") == 200, 10, 0.1)


def test_stats_name_what_runs(stack):
    stats = stack.stats()
    assert stats and all(set(figures) == {"cpu_percent", "mem_mb"} for figures in stats.values())
    assert sum(figures["mem_mb"] for figures in stats.values()) > 10


def test_bad_names_are_refused_in_one_line(stack):
    for call in (lambda: stack.service("nope"), lambda: stack.logs("nope"), lambda: stack.address("nope")):
        with pytest.raises(UsageError) as info:
            call()
        assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="lowercase letters"):
        open_stack("Bad Name", stack.root, stack.kind)


def test_down_keeps_the_data_when_asked_and_purge_leaves_nothing(stack):
    """Last: it takes the module's stack down (and up again, twice)."""
    stack.sql("CREATE TABLE IF NOT EXISTS conformance_kept (n int)")
    stack.sql("INSERT INTO conformance_kept VALUES (42)")
    assert stack.down(keep_data=True) is True
    assert not stack.is_up()
    with pytest.raises(StackNotFoundError):
        stack.status()
    assert stack.down(keep_data=True) is False  # idempotent

    def up_again() -> Stack:
        again = open_stack(stack.name, stack.root, stack.kind, load_config(None, SETTINGS))
        again.up()
        return again

    again = up_again()
    assert again.sql("SELECT n FROM conformance_kept") == [(42,)]
    assert again.down() is True  # without keep_data: the kind's own rule (its capabilities say which)
    again = up_again()
    kept = again.sql("SELECT count(*) FROM pg_tables WHERE tablename = 'conformance_kept'") == [(1,)]
    assert kept == stack.capabilities.data_kept_on_down
    assert again.down(purge=True) is True
    assert not Path(again.run_dir).exists()
    assert not again.is_up()
    assert again.down(purge=True) is False
