"""Which typed command lines the lab recognises as toolbox actions, with which arguments (pure rules).

The corpus is what responders type: psql in its many forms and wrappers, container and service
tools, signals, HTTP and network tools. Each toolbox act's arguments must validate against the
action's own model, so a shell act is the CLI's and the console's act.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.actions import ACTIONS
from lab.core.runbook import parse_runbook
from lab.core.shell import LOOKS, SERVICES, SHELL_ONLY_ACTS, Classified, classify, strip_history_number
from lab.timeline.shell import event_for, parse_records

C = Classified
IDLE_TX = "idle in transaction"

CORPUS = [
    # --- psql -c: reading the database's state -----------------------------------------------------
    ('psql -c "select state, count(*) from pg_stat_activity group by 1"', C("inspect-db")),
    ("psql -Atc 'select * from pg_locks'", C("inspect-db")),
    ("psql -c 'table pg_stat_activity'", C("inspect-db")),
    ("psql -X -A -t -c 'SHOW max_connections'", C("inspect-db")),
    ("psql arcade -c \"select current_setting('max_connections')\"", C("inspect-db")),
    ("psql -h 127.0.0.1 -p 5432 -U postgres -d arcade -c 'select pid, pg_blocking_pids(pid) from pg_stat_activity'",
     C("inspect-db")),
    ('psql --command="SELECT count(*) FROM pg_stat_activity WHERE state = \'idle in transaction\'"', C("inspect-db")),
    ("psql --command 'select datname, numbackends from pg_stat_database'", C("inspect-db")),
    ("psql -c 'select 1'", None),
    ("psql -c '\\dt'", None),
    ("psql", None),
    # --- setting changes ---------------------------------------------------------------------------
    ('psql -c "alter system set work_mem = \'8MB\'"', C("set-db-setting", {"name": "work_mem", "value": "8MB"}, "system")),
    ("psql -c 'ALTER SYSTEM SET max_connections = 8000'",
     C("set-db-setting", {"name": "max_connections", "value": "8000"}, "system")),
    ("psql -c 'ALTER SYSTEM SET MAX_CONNECTIONS TO 8000'",
     C("set-db-setting", {"name": "max_connections", "value": "8000"}, "system")),
    ("psql -c \"alter system set max_connections to '8000'\"",
     C("set-db-setting", {"name": "max_connections", "value": "8000"}, "system")),
    ("psql -c \"ALTER SYSTEM SET idle_in_transaction_session_timeout = '30s'\" -c 'SELECT pg_reload_conf()'",
     C("set-db-setting", {"name": "idle_in_transaction_session_timeout", "value": "30s"}, "system")),
    ("psql -c \"SET work_mem = '8MB'\"", C("set-db-setting", {"name": "work_mem", "value": "8MB"}, "session")),
    ("psql -c 'SET LOCAL lock_timeout TO 1000'", C("set-db-setting", {"name": "lock_timeout", "value": "1000"},
                                                   "transaction")),
    ("psql -c \"ALTER ROLE arcade SET statement_timeout = '5s'\"",
     C("set-db-setting", {"name": "statement_timeout", "value": "5s"}, "role")),
    ("psql -c \"alter user arcade in database arcade set statement_timeout to '5s'\"",
     C("set-db-setting", {"name": "statement_timeout", "value": "5s"}, "role")),
    ("psql -c \"ALTER DATABASE arcade SET idle_in_transaction_session_timeout = '60s'\"",
     C("set-db-setting", {"name": "idle_in_transaction_session_timeout", "value": "60s"}, "database")),
    ("psql -c \"ALTER SYSTEM SET arcade.feature_flag = 'on'\"",
     C("set-db-setting", {"name": "arcade.feature_flag", "value": "on"}, "system")),
    ("psql -c 'ALTER SYSTEM SET arcade.flag'", None),
    ("psql -c 'alter system set log_min_duration_statement = 250ms'",
     C("set-db-setting", {"name": "log_min_duration_statement", "value": "250ms"}, "system")),
    ("psql -c 'ALTER SYSTEM SET work_mem TO DEFAULT'", None),
    ("psql -c 'ALTER SYSTEM RESET work_mem'", None),
    ("psql -c 'SET ROLE postgres'", None),
    # --- ending sessions ---------------------------------------------------------------------------
    ('psql -c "select pg_cancel_backend(4242)"', C("kill-query", {"pid": 4242})),
    ("psql -c 'SELECT pg_terminate_backend(1234)'", C("kill-query", {"pid": 1234})),
    ("psql -c 'select pg_terminate_backend(pid) from pg_stat_activity where pid = 777'", C("kill-query", {"pid": 777})),
    ("PGPASSWORD=x psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where state = 'idle'\"",
     C("terminate-idle-connections", {"state": "idle"})),
    ("psql -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' "
     "AND state_change < now() - interval '30 seconds'\"",
     C("terminate-idle-connections", {"state": IDLE_TX, "older_than_s": 30.0})),
    ("psql -c \"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle in transaction' "
     "AND state_change < now() - interval '5 min'\"",
     C("terminate-idle-connections", {"state": IDLE_TX, "older_than_s": 300.0})),
    ("psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where usename = 'arcade' and state in "
     "('idle', 'idle in transaction') and now() - state_change > '2 minutes'::interval\"",
     C("terminate-idle-connections", {"state": "any", "older_than_s": 120.0})),
    ("psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where state <> 'active' "
     "and state_change < now() - make_interval(secs => 45)\"",
     C("terminate-idle-connections", {"state": "any", "older_than_s": 45.0})),
    ("psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where state like 'idle%'\"",
     C("terminate-idle-connections", {"state": "any"})),
    ("psql -c 'select pg_terminate_backend(b) from pg_stat_activity, unnest(pg_blocking_pids(pid)) as b'",
     C("terminate-blocking")),
    ("psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where wait_event_type = 'Lock'\"",
     C("terminate-blocking", {"waiting_only": True})),
    ("psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where usename = 'arcade'\"", None),
    ("psql -c \"select pg_cancel_backend(pid) from pg_stat_activity where state = 'active'\"", None),
    # --- several statements, comments, quoting -----------------------------------------------------
    ("psql -c 'select * from pg_stat_activity; select pg_terminate_backend(4242)'", C("kill-query", {"pid": 4242})),
    ("psql -c '-- select pg_terminate_backend(1)\nselect count(*) from pg_stat_activity'", C("inspect-db")),
    ("psql -c '/* alter system set max_connections = 1; */ select 1'", None),
    ("psql -c \"select 'truncate scores; drop table players'\"", None),
    ("psql -c 'select $$ pg_terminate_backend(7) $$'", None),
    ("psql -c \"ALTER SYSTEM SET \\\"work_mem\\\" = '4MB'\"", C("set-db-setting", {"name": "work_mem", "value": "4MB"},
                                                                 "system")),
    ("psql -c 'select now()' -c 'alter system set max_connections = 300'",
     C("set-db-setting", {"name": "max_connections", "value": "300"}, "system")),
    # --- destructive SQL (an act only the shell records) -------------------------------------------
    ("psql -c 'TRUNCATE scores'", C("destructive-sql", {"statement": "truncate", "target": "scores"})),
    ("psql -c 'truncate table only public.scores cascade'",
     C("destructive-sql", {"statement": "truncate", "target": "public.scores"})),
    ("psql -c 'DROP TABLE IF EXISTS matches'", C("destructive-sql", {"statement": "drop", "target": "matches"})),
    ("psql postgres -c 'drop database arcade'", C("destructive-sql", {"statement": "drop", "target": "arcade"})),
    ("psql -c 'DROP SCHEMA public CASCADE'", C("destructive-sql", {"statement": "drop", "target": "public"})),
    ("psql -c 'delete from sessions'", C("destructive-sql", {"statement": "delete", "target": "sessions"})),
    ("psql -c \"delete from sessions where created_at < now() - interval '1 day'\"", None),
    ("psql -c 'update players set banned = false'", C("destructive-sql", {"statement": "update", "target": "players"})),
    ("psql -c 'update players set banned = false where id = 7'", None),
    ("psql -c 'drop index scores_game_idx'", None),
    # --- files and standard input ------------------------------------------------------------------
    ("psql -f fix.sql", None),
    ("psql -U arcade -f /tmp/kill_idle.sql", None),
    ("psql < fix.sql", None),
    ("cat fix.sql | psql", None),
    ("psql -v ON_ERROR_STOP=1 <<'SQL'\n\\x\nSELECT pid, state FROM pg_stat_activity;\nSQL", C("inspect-db")),
    ("psql -f - <<EOF\nALTER SYSTEM SET max_connections = 500;\nEOF",
     C("set-db-setting", {"name": "max_connections", "value": "500"}, "system")),
    ("psql <<-EOF\n\tselect pg_terminate_backend(pid) from pg_stat_activity\n\t where state = 'idle';\n\tEOF",
     C("terminate-idle-connections", {"state": "idle"})),
    ("psql <<< 'select pg_terminate_backend(99)'", C("kill-query", {"pid": 99})),
    ('echo "select pg_terminate_backend(31337)" | psql -U postgres', C("kill-query", {"pid": 31337})),
    ("printf 'SHOW max_connections;\\n' | psql", C("inspect-db")),
    ("cat <<EOF | psql\ntruncate leaderboard;\nEOF", C("destructive-sql", {"statement": "truncate",
                                                                         "target": "leaderboard"})),
    ("psql <<EOF", None),  # the body did not reach the recorder
    ("echo 'select 1' | pgcli arcade", None),
    # --- wrappers ----------------------------------------------------------------------------------
    ("sudo -u postgres psql -c 'select * from pg_stat_activity'", C("inspect-db")),
    ("sudo -iu postgres psql -c 'ALTER SYSTEM SET max_connections = 200'",
     C("set-db-setting", {"name": "max_connections", "value": "200"}, "system")),
    ("sudo PGOPTIONS='-c x=1' psql -c 'select pg_terminate_backend(5)'", C("kill-query", {"pid": 5})),
    ('su postgres -c "psql -c \\"select pg_terminate_backend(8080)\\""', C("kill-query", {"pid": 8080})),
    ("su - postgres -c 'psql -Atc \"select count(*) from pg_locks\"'", C("inspect-db")),
    ("sudo su postgres -c 'psql <<EOF\nselect pg_terminate_backend(4)\nEOF'", C("kill-query", {"pid": 4})),
    ("runuser -u postgres -- psql -c 'SHOW max_connections'", C("inspect-db")),
    ("bash -lc \"psql -c 'select pg_cancel_backend(11)'\"", C("kill-query", {"pid": 11})),
    ("docker exec -it gameday-db-1 psql -U postgres -c 'select pg_terminate_backend(4242)'",
     C("kill-query", {"pid": 4242})),
    ("docker exec -i -u postgres gameday-db-1 psql <<'SQL'\nALTER SYSTEM SET max_connections = 400;\nSQL",
     C("set-db-setting", {"name": "max_connections", "value": "400"}, "system")),
    ("docker exec gameday-db-1 sh -c \"psql -U arcade -c 'truncate scores'\"",
     C("destructive-sql", {"statement": "truncate", "target": "scores"})),
    ("docker compose exec db psql -U arcade -c 'select * from pg_stat_activity'", C("inspect-db")),
    ("docker compose -f docker-compose.yml -p team1 exec -T db psql -U postgres -c 'select pg_cancel_backend(12)'",
     C("kill-query", {"pid": 12})),
    ("docker-compose exec db psql -c \"alter role arcade set idle_in_transaction_session_timeout = '10s'\"",
     C("set-db-setting", {"name": "idle_in_transaction_session_timeout", "value": "10s"}, "role")),
    ("kubectl exec -it postgres-0 -- psql -U arcade -c 'select count(*) from pg_stat_activity'", C("inspect-db")),
    ("kubectl -n gameday exec deploy/db -c postgres -- psql -c 'select pg_terminate_backend(77)'",
     C("kill-query", {"pid": 77})),
    ("kubectl exec postgres-0 -- bash -c \"psql -c 'delete from sessions'\"",
     C("destructive-sql", {"statement": "delete", "target": "sessions"})),
    ("ssh db1 'sudo -u postgres psql -c \"select pg_terminate_backend(300)\"'", C("kill-query", {"pid": 300})),
    ("watch -n 2 \"psql -c 'select count(*) from pg_stat_activity'\"", C("inspect-db")),
    ("env PGHOST=db psql -c 'select * from pg_locks'", C("inspect-db")),
    ("timeout 5 psql -c 'select pg_terminate_backend(21)'", C("kill-query", {"pid": 21})),
    ("time psql -c 'SHOW max_connections'", C("inspect-db")),
    # --- chains and pipes --------------------------------------------------------------------------
    ("cd /tmp && psql -c 'select pg_terminate_backend(3)'", C("kill-query", {"pid": 3})),
    ("psql -c 'select * from pg_stat_activity' | grep idle", C("inspect-db")),
    ("psql -c 'select * from pg_stat_activity' && docker restart gameday-db-1", C("restart", {"service": "db"})),
    ("ls; psql -c 'select 1' || echo failed", None),
    ("psql -c 'select * from pg_stat_activity'; curl -s $ARCADE_URL/healthz", C("inspect-db")),
    # --- restarts ----------------------------------------------------------------------------------
    ("pg_ctl -D $PGDATA restart", C("restart", {"service": "db"})),
    ("sudo -u postgres pg_ctl -D /x restart -m fast", C("restart", {"service": "db"})),
    ('su postgres -c "pg_ctl -D /x restart"', C("restart", {"service": "db"})),
    ("pg_ctlcluster 15 main restart", C("restart", {"service": "db"})),
    ("pg_ctl -D $PGDATA reload", None),
    ("docker restart gameday-db-1", C("restart", {"service": "db"})),
    ("docker container restart -t 5 gameday-web-1", C("restart", {"service": "web"})),
    ("docker compose restart web", C("restart", {"service": "web"})),
    ("docker compose restart db", C("restart", {"service": "db"})),
    ("docker-compose restart proxy", C("restart", {"service": "proxy"})),
    ("docker compose restart", None),
    ("docker compose up -d --force-recreate web", C("restart", {"service": "web"})),
    ("docker service update --force gameday_web", C("restart", {"service": "web"})),
    ("systemctl restart postgresql", C("restart", {"service": "db"})),
    ("sudo systemctl restart postgresql@15-main.service", C("restart", {"service": "db"})),
    ("service postgresql restart", C("restart", {"service": "db"})),
    ("/etc/init.d/postgresql restart", C("restart", {"service": "db"})),
    ("kubectl rollout restart deploy/web", C("restart", {"service": "web"})),
    ("kubectl -n gameday rollout restart deployment arcade-web", C("restart", {"service": "web"})),
    ("kubectl rollout restart statefulset/postgres", C("restart", {"service": "db"})),
    ("systemctl restart pgbouncer", None),  # not a service restart takes
    ("systemctl reload gunicorn", C("restart", {"service": "web"})),
    # --- signals to gunicorn -----------------------------------------------------------------------
    ("pkill -f gunicorn", C("kill-worker")),
    ("kill -9 $(pgrep gunicorn)", C("kill-worker")),
    ("pkill -9 -f 'gunicorn: worker'", C("kill-worker")),
    ("killall gunicorn", C("kill-worker")),
    ("pgrep -f gunicorn | xargs kill", C("kill-worker")),
    ("ps aux | grep 'gunicorn: worker' | awk '{print $2}' | xargs kill -9", C("kill-worker")),
    ("kill -HUP $(cat /tmp/gunicorn.pid)", C("restart", {"service": "web"})),
    ("pkill -HUP -f 'gunicorn: master'", C("restart", {"service": "web"})),
    ("kill -s SIGHUP $(pgrep -o gunicorn)", C("restart", {"service": "web"})),
    ("kill -1 $(pgrep -of gunicorn)", C("restart", {"service": "web"})),
    ("kill -TTIN $(pgrep -o gunicorn)", None),  # one worker more: how many in all is not visible
    ("kill -TERM 1234", None),
    ("kill 1234", None),
    ("kill -l", None),
    ("pkill -f 'postgres: arcade'", None),
    # --- scaling -----------------------------------------------------------------------------------
    ("docker compose up -d --scale web=4", C("scale-web", {"workers": 4})),
    ("docker-compose up -d --no-deps --scale web=2 web", C("scale-web", {"workers": 2})),
    ("docker service scale gameday_web=6", C("scale-web", {"workers": 6})),
    ("kubectl scale --replicas=4 deploy/web", C("scale-web", {"workers": 4})),
    ("kubectl scale deployment web --replicas 3", C("scale-web", {"workers": 3})),
    ("docker compose up -d --scale db=2", None),
    ("docker compose up -d --scale web=0", None),
    ("docker compose up -d --scale web=²", None),
    # --- looks: web, network, status, logs ---------------------------------------------------------
    ("curl -s $ARCADE_URL/leaderboard?game=tetra", C("inspect-web")),
    ('curl -s -o /dev/null -w "%{http_code}\\n" "$ARCADE_URL/healthz"', C("inspect-web")),
    ("ping -c 3 127.0.0.1", C("check-network")),
    ("cd /tmp && ping -c1 db", C("check-network")),
    ("nc -zv db 5432", C("check-network")),
    ("top -b -n1", C("status")),
    ("docker ps", C("status")),
    ("docker compose ps", C("status")),
    ("kubectl get pods -n gameday", C("status")),
    ("systemctl status postgresql", C("status")),
    ("tail -n 50 .gameday/default/logs/web.log", C("logs", {"service": "web", "lines": 50})),
    ("tail -f /var/log/postgresql/postgresql-15-main.log", C("logs", {"service": "db"})),
    ("grep -i 'too many' /var/log/postgresql/postgresql-15-main.log", C("logs", {"service": "db"})),
    ("docker logs --tail 100 gameday-db-1", C("logs", {"service": "db", "lines": 100})),
    ("docker compose logs -f web", C("logs", {"service": "web"})),
    ("kubectl logs deploy/web --tail=20", C("logs", {"service": "web", "lines": 20})),
    ("journalctl -u postgresql -n 200", C("logs", {"service": "db", "lines": 200})),
    ("docker compose logs", None),  # which service: not said
    # --- not the lab's business --------------------------------------------------------------------
    ("ls -l", None),
    ("gameday act status", None),  # the lab's own commands record themselves
    ("vim /etc/postgresql/15/main/postgresql.conf", None),
    ('echo "unclosed', None),
    ("psql -c 'select pg_terminate_backend(", None),
    ("", None),
    ("\x00\x01\x02 psql \xff -c", None),
]


@pytest.mark.parametrize(("line", "expected"), CORPUS, ids=[line[:60] for line, _ in CORPUS])
def test_classify(line, expected):
    found = classify(line)
    assert found == expected
    if found is not None:
        assert found.evidence, "every act says what decided it"


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 60
    assert {c.action for _, c in CORPUS if c} >= {*SHELL_ONLY_ACTS, "inspect-db", "set-db-setting", "kill-query",
                                                  "terminate-idle-connections", "terminate-blocking", "restart",
                                                  "scale-web", "logs", "status", "inspect-web", "check-network"}


TOOLBOX_ACTS = {repr(c): c for _, c in CORPUS if c and c.action not in SHELL_ONLY_ACTS}


@pytest.mark.parametrize("found", list(TOOLBOX_ACTS.values()), ids=list(TOOLBOX_ACTS))
def test_toolbox_acts_carry_the_toolbox_arguments(found):
    """The args a shell act carries are valid arguments of the toolbox action of that name."""
    assert found.action in ACTIONS
    ACTIONS[found.action].args.model_validate(found.args)


def test_shell_only_acts_are_not_toolbox_actions():
    assert not set(SHELL_ONLY_ACTS) & set(ACTIONS)
    assert set(LOOKS) <= set(ACTIONS)
    assert set(SERVICES) == set(ACTIONS["restart"].args.model_fields["service"].annotation.__args__)


def test_evidence_is_the_statement_that_decided():
    found = classify("psql -c \"select now(); -- look\nSELECT pg_terminate_backend(pid)\n  FROM pg_stat_activity "
                     "WHERE state = 'idle'\"")
    assert found == C("terminate-idle-connections", {"state": "idle"})
    assert found.evidence == "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'idle'"
    assert classify("docker restart gameday-db-1").evidence == "docker restart gameday-db-1"


def test_a_change_outranks_a_look_and_the_first_change_wins():
    line = "psql -c 'select * from pg_stat_activity' -c 'select pg_terminate_backend(1)' -c 'truncate scores'"
    assert classify(line) == C("kill-query", {"pid": 1})


def test_runbooks_may_name_the_shell_only_acts():
    text = """# R
```yaml runbook
id: demo
title: Demo
steps:
  - {id: look, title: Look, match: {action: inspect-db}}
forbidden:
  - {id: wipe, match: {action: destructive-sql}, why: "data is gone"}
  - {id: kill, match: {action: kill-worker}, why: "players cut off"}
```
"""
    runbook = parse_runbook(text, ACTIONS)
    assert [f.match.action for f in runbook.forbidden] == ["destructive-sql", "kill-worker"]


SHELL_PIECES = [*"psqlc -'\"\\$()`|&;<>\n\t#=*{}/EOF01", "psql ", "<<EOF\n", "\nEOF", "<<-", "$(", "sudo ", "su -c ",
                "docker exec x ", "kubectl exec p -- ", "-c ", "pg_terminate_backend(", "kill -HUP ", "gunicorn", "watch "]
SQL_PIECES = [*"'\";$-/*()\n ", "select ", "pg_terminate_backend(", "alter system set ", "alter role r set ", "x = ",
              "interval '", "truncate ", "delete from ", "update ", "where ", "state", "\\x", "$$", "1", "::interval",
              ".", "a.b", "to ", "make_interval(secs => ", "set local ", "'idle'", ","]


def pieces(alphabet: list[str], most: int) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), max_size=most).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=200), pieces(SHELL_PIECES, 40)))
def test_classify_never_raises(line):
    found = classify(line)
    assert found is None or isinstance(found, Classified)
    if found is not None and found.action not in SHELL_ONLY_ACTS:
        ACTIONS[found.action].args.model_validate(found.args)


@settings(max_examples=200, deadline=None)
@given(pieces(SQL_PIECES, 30))
def test_any_sql_after_psql_never_raises(sql):
    found = classify(f"psql <<'EOF'\n{sql}\nEOF")
    if found is not None and found.action not in SHELL_ONLY_ACTS:
        ACTIONS[found.action].args.model_validate(found.args)


@pytest.mark.parametrize("line", ["sudo " * 20_000 + "psql", "a|" * 30_000, "bash -c " * 5_000, "$(" * 30_000,
                                  "psql -c '" + "pg_terminate_backend(" * 3_000, "pgrep gunicorn | " + "xargs " * 9_000],
                         ids=["sudo", "pipes", "bash -c", "substitutions", "calls", "xargs"])
def test_deep_or_long_lines_end_quickly(line):
    classify(line)  # no recursion error, no quadratic work (the suite's timeout would say)


def test_a_huge_line_is_read_up_to_its_first_64_kb():
    line = "psql -c 'select 1" + ";" * 200_000 + "select pg_terminate_backend(5)'"
    assert classify(line) is None
    assert classify("psql -c 'select pg_terminate_backend(5)' " + "x" * 200_000) == C("kill-query", {"pid": 5})


def test_history_numbers_are_stripped():
    assert strip_history_number("  42  psql -c 'x'") == "psql -c 'x'"
    assert strip_history_number("  7* ls") == "ls"


def test_records_from_the_fifo_stream():
    stream = "1.0\x1f1.5\x1f0\x1f 1  echo hi\x1e2.0\x1f2.25\x1f1\x1f 2  false\x1e3.0\x1f"
    records, rest = parse_records(stream)
    assert [(r["command"], r["exit_code"], r["duration_s"]) for r in records] == [("echo hi", 0, 0.5), ("false", 1, 0.25)]
    assert rest == "3.0\x1f"
    records, rest = parse_records("4.0\x1f\x1f\x1f 3  pg_ctl restart\x1e4.0\x1f5.5\x1f0\x1f 3  pg_ctl restart\x1e")
    assert records == [{"command": "pg_ctl restart", "started_at": 4.0, "start": True},  # the DEBUG trap's
                       {"command": "pg_ctl restart", "started_at": 4.0, "exit_code": 0, "duration_s": 1.5}]
    kind, data = event_for({"command": "psql -c 'table pg_stat_activity'", "exit_code": 0, "duration_s": 0.1,
                            "started_at": 1.0})
    assert kind == "action.inspect-db" and data["action"] == "inspect-db" and data["via"] == "shell" and data["ok"]


def test_the_event_keeps_the_command_and_the_evidence():
    command = "sudo -u postgres psql <<'SQL'\nSET work_mem = '64MB';\nSQL"
    kind, data = event_for({"command": command, "exit_code": 0, "duration_s": 0.1, "started_at": 1.0})
    assert kind == "action.set-db-setting"
    assert data["args"] == {"name": "work_mem", "value": "64MB"} and data["scope"] == "session"
    assert data["command"] == command and data["evidence"] == "SET work_mem = '64MB'"
    kind, data = event_for({"command": "ls", "exit_code": 0, "duration_s": 0.0, "started_at": 1.0})
    assert kind == "shell.command" and "evidence" not in data
