"""Which typed command lines the lab recognises as toolbox actions (pure rules)."""

from __future__ import annotations

import pytest

from lab.core.shell import Classified, classify, strip_history_number
from lab.timeline.shell import event_for, parse_records


@pytest.mark.parametrize(("line", "expected"), [
    ('psql -c "select state, count(*) from pg_stat_activity group by 1"', Classified("inspect-db")),
    ("psql -Atc 'select * from pg_locks'", Classified("inspect-db")),
    ("PGPASSWORD=x psql -c \"select pg_terminate_backend(pid) from pg_stat_activity where state = 'idle'\"",
     Classified("terminate-idle-connections")),
    ('psql -c "select pg_cancel_backend(4242)"', Classified("kill-query")),
    ('psql -c "alter system set work_mem = \'8MB\'"', Classified("set-db-setting")),
    ("pg_ctl -D $PGDATA restart", Classified("restart", {"service": "db"})),
    ("sudo -u postgres pg_ctl -D /x restart -m fast", Classified("restart", {"service": "db"})),
    ('su postgres -c "pg_ctl -D /x restart"', Classified("restart", {"service": "db"})),
    ("docker restart gameday-db-1", Classified("restart", {"service": "db"})),
    ("docker compose restart web", Classified("restart", {"service": "web"})),
    ("systemctl restart postgresql", Classified("restart", {"service": "db"})),
    ("curl -s $ARCADE_URL/leaderboard?game=tetra", Classified("inspect-web")),
    ("ping -c 3 127.0.0.1", Classified("check-network")),
    ("cd /tmp && ping -c1 db", Classified("check-network")),
    ("tail -n 50 .gameday/default/logs/web.log", Classified("logs", {"service": "web"})),
    ("ls -l", None),
    ("gameday act status", None),  # the lab's own commands record themselves
    ("psql -c 'select 1'", None),
    ('echo "unclosed', None),
    ("", None),
])
def test_classify(line, expected):
    assert classify(line) == expected


def test_history_numbers_are_stripped():
    assert strip_history_number("  42  psql -c 'x'") == "psql -c 'x'"
    assert strip_history_number("  7* ls") == "ls"


def test_records_from_the_fifo_stream():
    stream = "1.0\x1f1.5\x1f0\x1f 1  echo hi\x1e2.0\x1f2.25\x1f1\x1f 2  false\x1e3.0\x1f"
    records, rest = parse_records(stream)
    assert [(r["command"], r["exit_code"], r["duration_s"]) for r in records] == [("echo hi", 0, 0.5), ("false", 1, 0.25)]
    assert rest == "3.0\x1f"
    kind, data = event_for({"command": "psql -c 'table pg_stat_activity'", "exit_code": 0, "duration_s": 0.1,
                            "started_at": 1.0})
    assert kind == "action.inspect-db" and data["action"] == "inspect-db" and data["via"] == "shell" and data["ok"]
