"""Team commands against a real stack with a drill running: each has its real effect and leaves
exactly one event with its result; bad input leaves nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import html5lib
import psycopg2
import pytest

from lab.console import results

from lab.stack import procs
from lab.timeline.store import TimelineStore
from console.app_helpers import logged_in, make_app

pytestmark = pytest.mark.integration

def gameday(env, *args):
    return subprocess.run([sys.executable, "-m", "lab.cli", *args, "--name", "act"], env=env,
                          capture_output=True, text=True, timeout=60)


def http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def act_once(drill, *args, actor="alice"):
    """Run one team command; return the single event it added."""
    stack, run_dir, env = drill
    store = TimelineStore(run_dir / "events.jsonl")
    before = len([e for e in store.read() if e.source.value == "team"])
    result = gameday(env, *args, "--actor", actor)
    assert result.returncode == 0, result.stderr
    team = [e for e in store.read() if e.source.value == "team"]
    assert len(team) == before + 1
    event = team[-1]
    assert event.actor == actor and event.data["ok"], event.data
    return event


def test_inspect_tools_report_what_is_there(drill):
    stack = drill[0]
    assert act_once(drill, "act", "status").data["result"]["services"]["db"] == "healthy"
    assert act_once(drill, "act", "logs", "web").data["result"]["lines"]
    db = act_once(drill, "act", "inspect-db").data["result"]
    assert db["max_connections"] == 40 and db["connections_used"] >= 1
    net = act_once(drill, "act", "check-network").data["result"]
    assert [t["type"] for t in net["toxics"]] == ["latency"] and not net["unreachable"]
    web = act_once(drill, "act", "inspect-web").data["result"]
    assert web["workers"] == len(stack.web_workers()) == 2 and web["readyz"]["status"] == 200


def test_scale_and_restart_change_the_processes(drill):
    stack = drill[0]
    event = act_once(drill, "act", "scale-web", "3")
    assert event.kind == "action.scale-web" and event.data["result"]["direction"] == "up"
    assert len(stack.web_workers()) == 3
    act_once(drill, "act", "scale-web", "2")
    old = stack.state().services["web"].pid
    act_once(drill, "act", "restart", "web")
    assert stack.state().services["web"].pid != old and not procs.alive(old)


def test_terminate_idle_and_kill_query_end_real_sessions(drill):
    stack = drill[0]
    idle = [psycopg2.connect(stack.app_dsn(via_proxy=False)) for _ in range(3)]
    for conn in idle:
        conn.cursor().execute("SELECT 1")  # now idle in transaction
    time.sleep(1.2)
    result = act_once(drill, "act", "terminate-idle-connections", "--older-than", "1").data["result"]
    assert result["terminated"] >= 3
    for conn in idle:
        with pytest.raises(psycopg2.Error):
            conn.cursor().execute("SELECT 1")
    busy = psycopg2.connect(stack.app_dsn(via_proxy=False))
    pid = busy.get_backend_pid()
    errors: list[Exception] = []

    def sleep() -> None:
        try:
            busy.cursor().execute("SELECT pg_sleep(30)")
        except psycopg2.Error as exc:
            errors.append(exc)

    thread = threading.Thread(target=sleep)
    thread.start()
    time.sleep(0.3)
    assert act_once(drill, "act", "kill-query", str(pid)).data["result"]["terminated"] is True
    thread.join(5)
    assert errors and not thread.is_alive()


def test_shed_load_and_rollback(drill):
    stack = drill[0]
    loadgen = f"http://{stack.address('loadgen')}/state"
    before = json.loads(urllib.request.urlopen(loadgen, timeout=5).read())["current_rate"]
    act_once(drill, "act", "shed-load", "50")
    after = json.loads(urllib.request.urlopen(loadgen, timeout=5).read())["current_rate"]
    assert abs(after - before / 2) < 0.5
    stack.reconfigure(["web.flags=[broken_leaderboard]"], restart=("web",))
    assert act_once(drill, "act", "rollback-deploy").data["result"]["removed_flags"] == ["broken_leaderboard"]
    with urllib.request.urlopen(stack.urls()["arcade"] + "leaderboard?game=tetra", timeout=5) as resp:
        assert resp.status == 200


def test_enable_pooler_puts_pgbouncer_between_arcade_and_the_db(drill):
    stack = drill[0]
    result = act_once(drill, "act", "enable-pooler").data["result"]
    assert result["already_enabled"] is False and result["pool_mode"] == "transaction"
    assert stack.status().services[[s.name for s in stack.status().services].index("pooler")].health == "healthy"
    # 30 clients through Arcade's path share PgBouncer's server connections: they hold no slot
    # while idle, so the DB sees far fewer backends than clients.
    clients = [psycopg2.connect(stack.app_dsn(application_name="pooled-client")) for _ in range(30)]
    try:
        for conn in clients:
            conn.autocommit = True
            conn.cursor().execute("SELECT 1")
        (backends,), = stack.sql("SELECT count(*) FROM pg_stat_activity WHERE usename = 'arcade'")
        assert backends <= result["pool_size"] < len(clients)
    finally:
        for conn in clients:
            conn.close()
    with urllib.request.urlopen(stack.urls()["arcade"] + "leaderboard?game=tetra", timeout=5) as resp:
        assert resp.status == 200
    assert act_once(drill, "act", "enable-pooler").data["result"]["already_enabled"] is True


def test_set_db_setting_reloads_or_waits_for_a_restart(drill):
    stack = drill[0]
    result = act_once(drill, "act", "set-db-setting", "work_mem", "8MB").data["result"]
    assert result["applied"] is True and result["after"] == "8192"
    (work_mem,), = stack.sql("SHOW work_mem")
    assert work_mem == "8MB"
    result = act_once(drill, "act", "set-db-setting", "max_connections", "60").data["result"]
    assert result["pending_restart"] is True and stack.settings().db.max_connections == 60
    act_once(drill, "act", "restart", "db")
    (max_conn,), = stack.sql("SHOW max_connections")
    assert max_conn == "60"


def test_disable_feature_switches_a_route_off_without_a_restart(drill):
    stack = drill[0]
    web_pid = stack.state().services["web"].pid
    result = act_once(drill, "act", "disable-feature", "leaderboard").data["result"]
    assert result["disabled"] == ["leaderboard"] and result["routes"] == ["games.leaderboard"]
    url = stack.urls()["arcade"] + "leaderboard?game=tetra"
    assert procs.wait_until(lambda: http_status(url) == 503, 3.0)
    assert procs.wait_until(lambda: http_status(stack.urls()["arcade"] + "store") == 200, 3.0)  # the rest stays up
    assert stack.state().services["web"].pid == web_pid
    stack.set_disabled_features([])
    assert procs.wait_until(lambda: http_status(url) == 200, 3.0)


def _cells(element) -> list[str]:
    return [" ".join("".join(td.itertext()).split()) for td in element.iter("td")]


def _shown_values(result: dict) -> list[str]:
    """Every scalar of a result, as a table cell shows it."""
    out = []
    for value in result.values():
        if isinstance(value, dict):
            out += _shown_values(value)
        elif isinstance(value, list):
            for item in value[:20]:
                out += _shown_values(item) if isinstance(item, dict) else [" ".join(results.cell(item).split())]
        else:
            out.append(" ".join(results.cell(value).split()))
    return out


def test_every_result_reads_as_tables_for_a_teammate_who_did_not_run_it(drill):
    """The shared team view: what alice's real actions found (the tests above ran them; any missing
    inspect tool runs here) is on bob's page as a headline and tables, with the JSON behind a toggle."""
    stack, run_dir, _env = drill
    store = TimelineStore(run_dir / "events.jsonl")
    ran = {e.kind for e in store.read()}
    for args in (("status",), ("logs", "web"), ("inspect-db",), ("check-network",), ("inspect-web",)):
        if f"action.{args[0]}" not in ran:
            act_once(drill, "act", *args)
    done = [e for e in store.read() if e.kind.startswith("action.") and e.actor == "alice" and e.data["ok"]]
    assert {e.kind for e in done} >= {"action.status", "action.inspect-db", "action.check-network", "action.logs"}
    bob = logged_in(make_app(stack.root, "act"), "team", "bob")
    answer = bob.get("/team")
    assert answer.status_code == 200
    tree = html5lib.parse(answer.text, namespaceHTMLElements=False)
    articles = {a.get("id"): a for a in tree.iter("article")}
    for event in done:
        article = articles.get(f"finding-{event.id}")
        assert article is not None, f"{event.kind} #{event.id} is not on a teammate's page"
        heading = "".join(article.find("h3").itertext())
        assert "by alice" in heading and "{" not in heading, heading
        result = event.data["result"]
        cells = _cells(article)
        missing = [v for v in _shown_values(result) if v not in cells and not any(v in c for c in cells)]
        assert not missing, f"{event.kind}: {missing[:5]} not in its tables"
        raw = article.find(".//details/pre")
        assert raw is not None and json.loads("".join(raw.itertext()))["result"] == json.loads(json.dumps(result))
    # the same findings for scripts, newest first; the timeline rows link to them
    listed = bob.get("/team/findings?format=json").get_json()["findings"]
    assert [f["id"] for f in listed] == sorted((f["id"] for f in listed), reverse=True)
    assert {e.id for e in done} <= {f["id"] for f in listed}
    links = {a.get("href") for a in tree.find(".//tbody[@id='timeline']").iter("a")}
    assert {f"/team#finding-{e.id}" for e in done} <= links
    db = next(e for e in reversed(done) if e.kind == "action.inspect-db")
    assert "connections" in results.headline(db) and "drill s" in "".join(articles[f"finding-{db.id}"].itertext())


def test_the_words_of_an_incident(drill):
    assert act_once(drill, "ack").kind == "ack"
    assert act_once(drill, "note", "DB looks full", "--hypothesis", "db-connections-exhausted").data["args"] == {
        "text": "DB looks full", "hypothesis": "db-connections-exhausted"}
    assert act_once(drill, "role", "IC", "Alice").data["args"] == {"role": "IC", "name": "Alice"}
    assert act_once(drill, "update", "Investigating", "--audience", "external").data["args"]["audience"] == "external"
    assert act_once(drill, "escalate", "network", actor="bob").actor == "bob"
    resolved = act_once(drill, "resolve", "--summary", "leaked sessions held the pool; terminated them")
    assert resolved.kind == "resolve" and resolved.data["args"] == {"summary": "leaked sessions held the pool; terminated them"}


@pytest.mark.parametrize(("args", "message"), [
    (("act", "inspect-dbb"), "No such command 'inspect-dbb'"),
    (("act", "scale-web", "many"), "scale-web: workers: input should be a valid integer"),
    (("act", "restart", "database"), "restart: service: input should be 'db', 'web', 'proxy' or 'loadgen'"),
    (("role", "boss", "Alice"), "role: role: input should be 'IC', 'scribe', 'comms' or 'ops'"),
    (("act", "set-db-setting", "work_mem", "lots"), "set-db-setting: value: invalid value for parameter \"work_mem\""),
    (("act", "set-db-setting", "wrok_mem", "8MB"), "set-db-setting: name: unknown PostgreSQL setting 'wrok_mem'"),
    (("act", "disable-feature", "lobby"), "disable-feature: flag: input should be 'leaderboard', 'matches', 'store' or 'profiles'"),
])
def test_bad_input_writes_nothing(drill, args, message):
    _stack, run_dir, env = drill
    before = len(TimelineStore(run_dir / "events.jsonl").read())
    result = gameday(env, *args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert [e for e in TimelineStore(run_dir / "events.jsonl").read()[before:] if e.source.value == "team"] == []


def test_acting_with_no_drill_running(tmp_path):
    env = {**os.environ, "GAMEDAY_ROOT": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "lab.cli", "act", "inspect-db", "--name", "nothing"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip() == ("Error: no drill is running on stack 'nothing'; start one with "
                                     "`gameday drill SCENARIO --name nothing`")
