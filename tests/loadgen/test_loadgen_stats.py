"""Per-second stats and log histograms: pure."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.mix import MixError, Picker, parse_mix
from loadgen.stats import RATIO, Histogram, Stats


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.floats(1e-5, 100), min_size=1, max_size=300), p=st.sampled_from([50, 90, 99]))
def test_percentiles_are_within_one_bucket_of_exact(values, p):
    hist = Histogram()
    for v in values:
        hist.record(v)
    exact = sorted(values)[max(1, math.ceil(len(values) * p / 100)) - 1]
    got = hist.percentile(p)
    assert exact / RATIO <= got <= exact * RATIO * (1 + 1e-9)
    assert hist.max == max(values) and hist.total == len(values)


def test_seconds_are_kept_in_order_with_quiet_seconds_filled():
    stats = Stats(keep=10)
    stats.issued(100.2, 0.0)
    stats.outcome(100.5, "lobby", "200", 0.01)
    stats.outcome(103.1, "lobby", "503", 0.02)
    stats.outcome(101.9, "login", "timeout", 5.0)  # a late record lands in its own second
    assert [s.t for s in stats.seconds] == [100, 101, 102, 103]
    rows = [s.summary() for s in stats.last(10, now=104.0)]
    assert rows[0]["issued"] == 1 and rows[0]["counts"] == {"lobby": {"200": 1}}
    assert rows[1]["counts"] == {"login": {"timeout": 1}} and rows[2]["completed"] == 0
    assert stats.totals == {("lobby", "200"): 1, ("lobby", "503"): 1, ("login", "timeout"): 1}
    assert stats.last(10, now=103.5) == list(stats.seconds)[:3]  # the running second is not whole yet


@pytest.mark.parametrize(
    "spec, message",
    [
        ("lobby=30,chess=5", "mix: unknown route 'chess'; valid: lobby, leaderboard, login, start_match"),
        ("lobby=-1", "mix.lobby: expected a weight >= 0, got '-1'"),
        ("lobby", "mix: expected ROUTE=WEIGHT, got 'lobby'"),
        ("lobby=0", "mix: at least one route needs a positive weight"),
        ({"login": "x"}, "mix.login: expected a weight >= 0, got 'x'"),
    ],
)
def test_bad_mixes_are_one_line_errors(spec, message):
    with pytest.raises(MixError) as exc:
        parse_mix(spec)
    assert str(exc.value).startswith(message)


def test_the_picker_follows_the_weights_and_builds_valid_requests():
    import random

    picker = Picker(parse_mix("lobby=3,login=1,submit_score=1"), "127.0.0.1:80", random.Random(7))
    routes: dict[str, int] = {}
    for _ in range(5000):
        route, raw = picker.pick()
        routes[route] = routes.get(route, 0) + 1
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.split(b"\r\n")[0].endswith(b" HTTP/1.1")
        if body:
            assert f"Content-Length: {len(body)}".encode() in head
    assert 0.55 < routes["lobby"] / 5000 < 0.65
    assert routes["start_match"] > 900  # submit_score without a started match starts one
    picker.started(b'{"match_id": 4242}\n')
    assert picker.matches[-1] == 4242
