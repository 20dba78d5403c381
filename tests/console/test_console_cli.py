"""`gameday console` bad input: one line naming the argument, exit 2, nothing started."""

from __future__ import annotations

import socket

import pytest

from lab.console.chart import ChartPoint, bucket, svg
from lab.console.forms import fields
from lab.actions import ACTIONS


@pytest.mark.parametrize("args, message", [
    (["--name", "Bad Name!"], "--name 'Bad Name!': use 1-32 lowercase letters"),
    (["--port", "70000"], "'--port': 70000 is not in the range 0<=x<=65535"),
    (["--scenarios", "/nonexistent/dir"], "'--scenarios': Directory '/nonexistent/dir' does not exist"),
])
def test_bad_arguments(gameday, args, message):
    result = gameday("console", *args, timeout=30)
    assert result.returncode == 2, result
    assert result.stderr.startswith("Error: ") and message in result.stderr and len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [["--token-file", "{root}/fac.token"], ["--show-team-token"]])
def test_token_options_of_a_drill_need_its_console(gameday, run_root, args):
    args = [a.format(root=run_root) for a in args]
    result = gameday("drill", "march-2023-db-overload", "--name", "c2", *args, timeout=30)
    assert result.returncode == 2, result
    assert result.stderr.strip() == "Error: --token-file and --show-team-token are for the console: add --console"
    assert not (run_root / "c2").exists() and not (run_root / "fac.token").exists()


def test_a_port_in_use_is_refused_with_a_hint(gameday, run_root):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = gameday("console", "--name", "c1", "--port", str(port), timeout=30)
    assert result.returncode == 2, result
    assert f"--port {port}: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert not (run_root / "console" / "c1" / "console.json").exists()


def test_the_chart_breaks_its_lines_where_no_request_was_answered_and_buckets_long_runs():
    points = [ChartPoint(float(t), None if t == 5 else (1.0 if t < 10 else 0.0), 20.0 + t) for t in range(20)]
    drawn = svg(points, slo=0.95)
    avail = drawn.split('class="avail"')[0].rsplit('<path d="', 1)[1]
    assert avail.count("M") == 2  # a gap at t=5
    assert "SLO 95%" in drawn and "t+0:00" in drawn and "t+0:19" in drawn
    long = [ChartPoint(float(t), 1.0 if t % 100 else 0.5, float(t % 7)) for t in range(10_000)]
    few = bucket(long, 100)
    assert len(few) == 100 and min(p.availability for p in few) == 0.5 and max(p.p95_ms for p in few) == 6.0
    assert "no probe data yet" in svg([])


def test_every_action_has_a_form_matching_its_arguments():
    terminate = {f.name: f for f in fields(ACTIONS["terminate-idle-connections"])}
    assert terminate["state"].kind == "select" and "idle in transaction" in terminate["state"].choices
    assert terminate["older_than_s"].kind == "number" and not terminate["older_than_s"].required
    note = {f.name: f for f in fields(ACTIONS["note"])}
    assert note["text"].kind == "textarea" and note["text"].required and not note["hypothesis"].required
    for action in ACTIONS.values():
        for spec in fields(action):
            info = action.args.model_fields[spec.name]
            if info.annotation is bool:  # a yes/no select, its default first and labelled as such
                assert spec.kind == "bool" and spec.choices == ("true", "false")
                assert [label for _, label in spec.options()][0].endswith("(default)")
            if spec.kind in ("select", "bool"):
                values = [value for value, _ in spec.options()]
                assert len(values) == len(set(values)), (action.name, spec.name)  # each choice once
        assert [f.name for f in fields(action)] == list(action.args.model_fields)
