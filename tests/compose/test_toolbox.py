"""Every toolbox action on the compose stack, through the same code path as on the embedded one
(`perform`), with its real effect on the containers; and the observers: a `docker restart` typed
by hand, a scale done with Compose by hand, terminated sessions, all land as observer events."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import psycopg2
import pytest

from lab.actions import ACTIONS
from lab.actions.base import ActionContext
from lab.actions.perform import perform
from lab.faults import engine
from lab.monitor.load import LoadControl
from lab.stack import procs
from lab.stack.compose.cli import compose_cli
from lab.stack.compose.env import compose_file
from lab.timeline.observers import observers_for

SETTINGS = ("web.access_mode=per-request", "web.workers=2", "web.request_timeout_s=4")


@pytest.fixture(scope="module")
def stack(compose_stack):  # type: ignore[no-untyped-def]
    return compose_stack(*SETTINGS)


def act(stack: Any, action: str, **args: Any) -> dict[str, Any]:
    done = perform(action, args, ActionContext(stack, "tester"))
    assert done.ok, done.data
    return done.data["result"]  # type: ignore[no-any-return]


def web_containers(stack: Any) -> list[str]:
    return [c["Id"] for c in stack.containers("web", running=True)]


def started_at(stack: Any, service: str) -> str:
    cid = stack.containers(service)[0]["Id"]
    return stack.client.api.inspect_container(cid)["State"]["StartedAt"]  # type: ignore[no-any-return]


def ready(stack: Any) -> bool:
    try:
        with urllib.request.urlopen(stack.urls()["arcade"] + "readyz", timeout=5) as resp:
            return resp.status == 200
    except OSError:
        return False


def test_inspecting_actions_read_the_containers(stack):
    status = act(stack, "status")
    assert status["services"] == {"db": "healthy", "proxy": "healthy", "web": "healthy", "loadgen": "healthy"}
    logs = act(stack, "logs", service="db", lines=1000)
    assert logs["lines"] and any("ready to accept connections" in line for line in logs["lines"])
    db = act(stack, "inspect-db")
    assert db["max_connections"] == 40 and db["superuser_reserved"] == 3
    web = act(stack, "inspect-web")
    assert web["workers"] == len(web_containers(stack)) == 2 and web["readyz"]["status"] == 200
    net = act(stack, "check-network")
    assert net["unreachable"] == [] and net["db_link_enabled"] is True
    assert set(net["connect_ms"]) == {"db", "proxy", "web", "loadgen", "db-via-proxy"}
    fault = engine.inject(stack, "net_latency", {"latency_ms": 5})
    try:
        assert [t["name"] for t in act(stack, "check-network")["toxics"]] == [fault]
    finally:
        engine.revert_id(stack, fault)


def test_scale_web_changes_the_number_of_web_containers_through_compose(stack):
    result = act(stack, "scale-web", workers=3)
    assert result == {"before": 2, "after": 3, "direction": "up"}
    assert len(web_containers(stack)) == 3 and ready(stack)
    result = act(stack, "scale-web", workers=2)
    assert result["direction"] == "down" and len(web_containers(stack)) == 2


def test_restart_restarts_the_container(stack):
    for service in ("db", "web"):
        before = started_at(stack, service)
        result = act(stack, "restart", service=service)
        assert result["service"] == service and started_at(stack, service) != before
    assert procs.wait_until(lambda: ready(stack), 20, 0.2)


def test_terminate_idle_and_kill_query_end_real_sessions(stack):
    fault = engine.inject(stack, "connection_hog", {"connections": 4, "state": "idle"})
    try:
        time.sleep(0.5)
        result = act(stack, "terminate-idle-connections", older_than_s=0, state="idle")
        assert result["terminated"] >= 4
        active = engine.journal_for(stack).active()[fault]
        assert procs.wait_until(lambda: not engine.cause_present(stack, active), 5, 0.1)
    finally:
        engine.revert_id(stack, fault)
    conn = psycopg2.connect(stack.app_dsn(via_proxy=False, application_name="stuck"))
    try:
        pid = conn.get_backend_pid()
        holder = threading.Thread(target=lambda: _query(conn, "SELECT pg_sleep(60)"), daemon=True)
        holder.start()
        assert procs.wait_until(lambda: stack.sql("SELECT count(*) FROM pg_stat_activity WHERE pid = %s "
                                                  "AND state = 'active'", (pid,)) == [(1,)], 10)
        assert act(stack, "kill-query", pid=pid) == {"pid": pid, "terminated": True}
        holder.join(10)
        assert not holder.is_alive()
    finally:
        conn.close()


def _query(conn: Any, query: str) -> None:
    try:
        with conn.cursor() as cur:
            cur.execute(query)
    except psycopg2.Error:
        pass


def test_shed_load_and_rollback_deploy(stack):
    control = LoadControl(stack.address("loadgen"))
    control.set(10.0)
    try:
        result = act(stack, "shed-load", percent=50)
        assert result["admitted_rps"] == pytest.approx(5.0) and control.state().current_rate == pytest.approx(5.0)
    finally:
        control.set(0.0)
    fault = engine.inject(stack, "bad_deploy", {})
    assert act(stack, "rollback-deploy") == {"removed_flags": ["broken_leaderboard"]}
    assert stack.settings().web.flags == []
    with urllib.request.urlopen(stack.urls()["arcade"] + "leaderboard?game=tetra", timeout=10) as resp:
        assert resp.status == 200
    assert not engine.cause_present(stack, engine.journal_for(stack).active()[fault])
    engine.revert_id(stack, fault)


def code_of(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def test_disable_feature_switches_a_feature_off_in_every_web_container(stack):
    board = stack.urls()["arcade"] + "leaderboard?game=tetra"
    try:
        result = act(stack, "disable-feature", flag="leaderboard")
        assert result["disabled"] == ["leaderboard"]
        assert procs.wait_until(lambda: all(code_of(board) == 503 for _ in range(4)), 5, 0.1)
    finally:
        stack.set_disabled_features([])
    assert procs.wait_until(lambda: all(code_of(board) == 200 for _ in range(4)), 5, 0.1)


def test_set_db_setting_reloads_or_applies_at_the_next_restart(stack):
    result = act(stack, "set-db-setting", name="work_mem", value="8MB")
    assert result["applied"] is True and stack.sql("SHOW work_mem") == [("8MB",)]
    result = act(stack, "set-db-setting", name="max_connections", value="50")
    assert result["pending_restart"] is True and stack.sql("SHOW max_connections") == [("40",)]
    act(stack, "restart", service="db")  # the container is made again with the stack's new setting
    assert stack.sql("SHOW max_connections") == [("50",)]
    act(stack, "set-db-setting", name="max_connections", value="40")
    act(stack, "restart", service="db")
    assert stack.sql("SHOW max_connections") == [("40",)]
    assert procs.wait_until(lambda: ready(stack), 20, 0.2)


def test_terminate_blocking_ends_the_lock_holder(stack):
    fault = engine.inject(stack, "lock_contention", {"table": "best_scores"})
    waiter = psycopg2.connect(stack.app_dsn(via_proxy=False, application_name="waiter"))
    try:
        reader = threading.Thread(target=lambda: _query(waiter, "SELECT count(*) FROM best_scores"), daemon=True)
        reader.start()
        assert procs.wait_until(lambda: stack.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                                  "'waiter' AND wait_event_type = 'Lock'") == [(1,)], 10)
        result = act(stack, "terminate-blocking")
        assert result["terminated"] >= 1
        assert any(s["application"] == "arcade-migrate" for s in result["sessions"])
        reader.join(10)
        assert not reader.is_alive()  # the lock is gone: the waiting query went through
        active = engine.journal_for(stack).active()[fault]
        assert procs.wait_until(lambda: not engine.cause_present(stack, active), 5, 0.1)
    finally:
        waiter.close()
        engine.revert_id(stack, fault)


def test_every_action_that_touches_the_stack_is_covered_here():
    covered = {"status", "logs", "inspect-db", "inspect-web", "check-network", "scale-web", "restart",
               "terminate-idle-connections", "kill-query", "shed-load", "rollback-deploy", "enable-pooler",
               "disable-feature", "set-db-setting", "terminate-blocking"}
    tools = {name for name, action in ACTIONS.items() if action.category != "comms"}
    assert tools <= covered, f"not tried on compose: {sorted(tools - covered)}"


def test_hand_made_changes_are_observed(stack):
    seen: list[tuple[str, dict[str, Any]]] = []

    def kinds() -> list[str]:
        return [kind for kind, _ in seen]

    with observers_for(stack, lambda kind, data: seen.append((kind, data))):
        db = stack.containers("db")[0]["Names"][0].lstrip("/")
        typed = time.monotonic()
        subprocess.run(["docker", "restart", db], check=True, capture_output=True, timeout=60)
        assert procs.wait_until(lambda: "db.restarted" in kinds(), 5, 0.05), seen
        assert time.monotonic() - typed < 30
        assert procs.wait_until(lambda: ready(stack), 30, 0.2)

        env = stack.files.read_env_file()
        cli = compose_cli()
        subprocess.run([*cli.argv, "-p", stack.project, "-f", str(compose_file()), "up", "-d", "--no-deps",
                        "--no-recreate", "--scale", "web=3", "web"], check=True, capture_output=True,
                       env={"PATH": "/usr/local/bin:/usr/bin:/bin", **env}, timeout=120)
        assert procs.wait_until(lambda: "web.scaled" in kinds(), 10, 0.05), seen
        scaled = next(data for kind, data in seen if kind == "web.scaled")
        assert (scaled["before"], scaled["after"]) == (2, 3)

        web = stack.containers("web", running=True)[0]["Names"][0].lstrip("/")
        subprocess.run(["docker", "restart", "-t", "2", web], check=True, capture_output=True, timeout=60)
        assert procs.wait_until(lambda: "web.restarted" in kinds(), 10, 0.05), seen

        held = [psycopg2.connect(stack.app_dsn(via_proxy=False, application_name="idle")) for _ in range(3)]
        subprocess.run([sys.executable, "-c", (
            "import psycopg2, sys; c = psycopg2.connect(sys.argv[1]); c.autocommit = True; "
            "c.cursor().execute(\"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'arcade'\")"),
            stack.admin_target("arcade").dsn(5)], check=True, timeout=30)
        assert procs.wait_until(lambda: "db.connections_terminated" in kinds(), 5, 0.05), seen
        for conn in held:
            conn.close()

        stack.sql("ALTER SYSTEM SET work_mem = '6MB'")  # written in the container's postgresql.auto.conf
        assert procs.wait_until(lambda: "db.setting_changed" in kinds(), 5, 0.05), seen
        changed = next(data for kind, data in seen if kind == "db.setting_changed")
        assert (changed["name"], changed["value"], changed["file"]) == ("work_mem", "6MB", "postgresql.auto.conf")
        stack.sql("ALTER SYSTEM RESET work_mem")
    stack.scale_web(2)


def test_enable_pooler_puts_pgbouncer_between_arcade_and_the_database(stack):
    result = act(stack, "enable-pooler")
    assert result["already_enabled"] is False and result["via"] == "proxy upstream moved to PgBouncer"
    pgbouncer = stack.containers("pooler", running=True)
    assert len(pgbouncer) == 1
    assert pgbouncer[0]["Labels"]["com.docker.compose.service"] == "pgbouncer"
    with urllib.request.urlopen(stack.urls()["toxiproxy"] + "/proxies/postgres", timeout=5) as resp:
        assert b'"upstream":"pgbouncer:6432"' in resp.read().replace(b" ", b"")
    assert procs.wait_until(lambda: ready(stack), 20, 0.2)
    # Arcade's sessions now come from PgBouncer's container
    info = stack.client.api.inspect_container(pgbouncer[0]["Id"])
    ip = next(iter(info["NetworkSettings"]["Networks"].values()))["IPAddress"]
    for _ in range(5):
        ready(stack)
    clients = {row[0] for row in stack.sql("SELECT DISTINCT host(client_addr) FROM pg_stat_activity "
                                          "WHERE usename = 'arcade' AND client_addr IS NOT NULL")}
    assert clients == {ip}
    # PgBouncer checks Arcade's logins against the role's SCRAM secret, the one PostgreSQL holds
    (secret,), = stack.sql("SELECT rolpassword FROM pg_authid WHERE rolname = 'arcade'")
    container = stack.client.containers.get(pgbouncer[0]["Id"])
    code, userlist = container.exec_run(["cat", "/tmp/pgbouncer/userlist.txt"])
    assert code == 0 and secret.startswith("SCRAM-SHA-256$") and userlist.decode() == f'"arcade" "{secret}"\n'
    assert act(stack, "enable-pooler")["already_enabled"] is True
    assert "pooler" in act(stack, "status")["services"]
