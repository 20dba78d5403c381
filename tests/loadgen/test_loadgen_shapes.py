"""Shapes and the arrival schedule: pure functions of time."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.shapes import Schedule, Shape, ShapeError, expected_count, parse_shape, rate_at


@pytest.mark.parametrize(
    "body, message",
    [
        ({"rate": 10, "shape": "spik"}, "shape: unknown shape 'spik'; valid: constant, step, ramp, spike"),
        ({"rate": -5}, "rate: -5 is out of range; valid: 0-100000 (requests per second)"),
        ({"rate": "fast"}, "rate: expected a number, got 'fast'"),
        ({"rate": True}, "rate: expected a number, got True"),
        ({"rate": float("nan")}, "rate: expected a number, got nan"),
        ({"shape": "constant"}, "rate: required (requests per second, 0-100000)"),
        ({"rate": 5, "shape": "ramp", "to": 50}, "over: required for shape 'ramp' (seconds, > 0)"),
        ({"rate": 5, "shape": "spike", "to": 50, "at": 1, "duration": 0}, "duration: must be greater than 0 seconds"),
        ({"rate": 5, "shape": "step", "at": 3}, "to: required for shape 'step' (requests per second, 0-100000)"),
        ({"rate": 5, "over": 3}, "over: not a field of shape 'constant'; valid: rate"),
        ({"rate": 5, "shape": "step", "to": 9, "at": -1}, "at: -1 is out of range; valid: 0-86400 (seconds)"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_shapes_are_one_line_errors(body, message):
    with pytest.raises(ShapeError) as exc:
        parse_shape(body)
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_each_shape_has_its_rate_over_time():
    assert rate_at(parse_shape({"rate": 7}), 1e6) == 7
    step = parse_shape({"shape": "step", "rate": 10, "to": 100, "at": 5})
    assert [rate_at(step, t) for t in (0, 4.99, 5, 100)] == [10, 10, 100, 100]
    ramp = parse_shape({"shape": "ramp", "rate": 0, "to": 100, "over": 10})
    assert [rate_at(ramp, t) for t in (0, 5, 10, 50)] == [0, 50, 100, 100]
    spike = parse_shape({"shape": "spike", "rate": 10, "to": 500, "at": 2, "duration": 3})
    assert [rate_at(spike, t) for t in (1, 2, 4.9, 5, 60)] == [10, 500, 500, 10, 10]
    assert spike.to_dict() == {"shape": "spike", "rate": 10, "to": 500, "at": 2, "duration": 3}


def _arrivals(shape: Shape, until: float) -> list[float]:
    sched, out = Schedule(shape), list[float]()
    while True:
        t = sched.next()
        if t > until:
            return out
        out.append(t)


shapes = st.one_of(
    st.builds(lambda r: Shape("constant", rate=r), st.floats(0, 5000)),
    st.builds(lambda r, to, at: Shape("step", rate=r, to=to, at=at), st.floats(0, 3000), st.floats(0, 3000), st.floats(0, 5)),
    st.builds(lambda r, to, over: Shape("ramp", rate=r, to=to, over=over), st.floats(0, 3000), st.floats(0, 3000), st.floats(0.01, 5)),
    st.builds(lambda r, to, at, d: Shape("spike", rate=r, to=to, at=at, duration=d),
              st.floats(0, 3000), st.floats(0, 3000), st.floats(0, 3), st.floats(0.01, 3)),
)


@settings(max_examples=150, deadline=None)
@given(shape=shapes, until=st.floats(0.1, 6))
def test_schedule_issues_what_the_rate_integrates_to(shape, until):
    arrivals = _arrivals(shape, until)
    assert arrivals == sorted(arrivals)
    assert all(t > 0 for t in arrivals)
    assert abs(len(arrivals) - expected_count(shape, 0, until)) <= 1 + 1e-6 * expected_count(shape, 0, until)


def test_zero_rate_never_issues_and_a_spike_from_zero_does():
    assert Schedule(Shape("constant", rate=0)).next() == math.inf
    arrivals = _arrivals(Shape("spike", rate=0, to=100, at=1, duration=0.5), 10)
    assert len(arrivals) == 50 and 1 <= arrivals[0] and arrivals[-1] <= 1.5 + 1e-9
