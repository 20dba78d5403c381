"""Verify's checks as pure functions: measured figures against a scenario's expectations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lab.catalog import CATALOG
from lab.core.timeline import Event, Source
from lab.verify import evaluate
from lab.verify.evaluate import DrillRecord, Second, SymptomSpec
from lab.verify.model import Status

FIXTURES = Path(__file__).parent / "fixtures" / "scenarios"
SPEED = 10.0


@pytest.fixture(scope="module")
def harmless():
    return CATALOG.load(FIXTURES / "harmless-fault.yaml")[0]


@pytest.fixture(scope="module")
def march():
    return CATALOG.load(CATALOG.resolve("march-2023-db-overload"))[0]


def seconds(*values: tuple[int, int], start: float = SPEED, p95: float | None = 50.0) -> tuple[Second, ...]:
    """One sample per real second (SPEED drill seconds apart): (total, ok) pairs."""
    return tuple(Second(start + i * SPEED, total, ok, p95) for i, (total, ok) in enumerate(values))


def record(samples: tuple[Second, ...], injected: dict[str, float], end: float, outcome: str = "recovered",
           reverted: dict[str, float] | None = None, **kw) -> DrillRecord:
    return DrillRecord(outcome=outcome, speed=SPEED, first_wall=1000.0, started_wall=1003.0,
                       steady=(1.0, 40.0), injected=tuple((k, v, 1003.0 + v / SPEED) for k, v in injected.items()),
                       reverted=tuple((reverted or {}).items()), end_s=end, end_wall=1003.0 + end / SPEED,
                       recovered_s=end if outcome == "recovered" else None, seconds=samples, **kw)


HEALTHY, DOWN = (10, 10), (10, 0)


# --- windows ------------------------------------------------------------------------------------------


def test_windows_pool_requests_and_keep_the_latency_that_held_throughout():
    samples = (Second(1, 10, 10, 100.0), Second(2, 10, 0, 900.0), Second(3, 0, 0, None), Second(4, 10, 5, 300.0))
    wins = evaluate.windows(samples, 2)
    assert [w.availability for w in wins] == [0.5, 0.0, 0.5]
    assert [w.p95_ms for w in wins] == [100.0, None, None]  # a second without answers proves no latency
    assert [w.end_s for w in wins] == [2, 3, 4]
    assert len(evaluate.windows(samples[:1], 3)) == 1  # fewer samples than the window: one window of all


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=40), st.integers(1, 10))
def test_windows_availability_is_a_share_and_every_run_is_counted(pairs, n):
    samples = tuple(Second(float(i), total, min(ok, total)) for i, (total, ok) in enumerate(pairs))
    wins = evaluate.windows(samples, n)
    assert len(wins) == len(samples) - min(n, len(samples)) + 1
    assert all(w.availability is None or 0.0 <= w.availability <= 1.0 for w in wins)


# --- symptoms --------------------------------------------------------------------------------------------

AVAILABILITY = SymptomSpec("requests fail", availability_below=0.2)
LATENCY = SymptomSpec("pages get slower", latency_p95_above_ms=150)
ROUTE = SymptomSpec("GET /leaderboard answers 500", route="/leaderboard")
NONE = SymptomSpec("connection slots taken")


def test_availability_symptom_seen_while_the_fault_is_active():
    rec = record(seconds(HEALTHY, HEALTHY, DOWN, DOWN, DOWN, HEALTHY), {"cut": 15.0}, end=60.0)
    check = evaluate.symptom("cut", AVAILABILITY, rec, slo_min=0.95, slo_window=3)
    assert check.status is Status.PASSED, check.message()
    figures = dict(check.figures)
    assert figures["availability_lowest"] == 0.0 and figures["onset_s"] == 35.0  # window ending t+50
    assert check.name == "symptom[cut]" and "20.0 %" in check.expected


def test_an_outage_before_the_injection_or_after_the_revert_is_not_the_fault_s_symptom():
    samples = seconds(DOWN, DOWN, DOWN, HEALTHY, HEALTHY, HEALTHY, HEALTHY, DOWN, DOWN, DOWN)
    rec = record(samples, {"cut": 35.0}, end=110.0, reverted={"cut": 65.0})
    check = evaluate.symptom("cut", AVAILABILITY, rec, slo_min=0.95, slo_window=3)
    assert check.status is Status.FAILED
    assert "lowest availability 100.0 %" in check.measured and "t+35 s to t+65 s" in check.measured
    assert check.message().startswith("symptom[cut]: expected requests fail: availability < 20.0 % over 3 s; measured")


def test_latency_symptom_must_hold_for_the_whole_window_not_one_spike():
    spike = tuple(Second(10.0 * (i + 1), 10, 10, 900.0 if i == 3 else 40.0) for i in range(8))
    assert evaluate.symptom("lag", LATENCY, record(spike, {"lag": 5.0}, 90.0), 0.95, 3).status is Status.FAILED
    slow = tuple(Second(10.0 * (i + 1), 10, 10, 400.0 if 3 <= i <= 5 else 40.0) for i in range(8))
    check = evaluate.symptom("lag", LATENCY, record(slow, {"lag": 5.0}, 90.0), 0.95, 3)
    assert check.status is Status.PASSED and dict(check.figures)["p95_ms_highest"] == 400.0


def test_route_symptom_counts_that_route_s_probe_failures_only():
    other = tuple(Second(10.0 * (i + 1), 10, 8, 40.0, (("lobby:503", 2),)) for i in range(5))
    assert evaluate.symptom("deploy", ROUTE, record(other, {"deploy": 5.0}, 60.0), 0.95, 3).status is Status.FAILED
    broken = tuple(Second(10.0 * (i + 1), 10, 8, 40.0, (("leaderboard:500", 2),)) for i in range(5))
    check = evaluate.symptom("deploy", ROUTE, record(broken, {"deploy": 5.0}, 60.0), 0.95, 3)
    assert check.status is Status.PASSED and dict(check.figures)["route_failures"] == 10


def test_a_kind_without_a_measurable_symptom_must_break_the_scenario_slo():
    dip = seconds(HEALTHY, (10, 9), (10, 9), (10, 9), HEALTHY)  # 90 %: below a 95 % SLO, above 20 %
    check = evaluate.symptom("leak", NONE, record(dip, {"leak": 5.0}, 60.0), slo_min=0.95, slo_window=3)
    assert check.status is Status.PASSED and "the SLO breaks" in check.expected
    check = evaluate.symptom("leak", NONE, record(seconds(HEALTHY, HEALTHY, HEALTHY), {"leak": 5.0}, 40.0), 0.95, 3)
    assert check.status is Status.FAILED and "100.0 %" in check.measured


def test_a_fault_never_injected_has_its_symptom_skipped():
    check = evaluate.symptom("leak", NONE, record(seconds(HEALTHY), {}, 20.0), 0.95, 3)
    assert check.status is Status.SKIPPED and "never injected" in check.measured


# --- the drill as a whole ---------------------------------------------------------------------------------


def test_slo_breach_and_recovery(harmless):
    rec = record(seconds(HEALTHY, DOWN, DOWN, DOWN, HEALTHY, HEALTHY, HEALTHY), {"tiny-latency": 5.0}, end=70.0)
    breach = evaluate.slo_breach(harmless, rec, 3)
    assert breach.status is Status.PASSED and evaluate.breach_at(breach) == 30.0
    healed = evaluate.recovery(harmless, rec, evaluate.breach_at(breach))
    assert healed.status is Status.PASSED and dict(healed.figures)["outage_s"] == 40.0
    stuck = record(rec.seconds, {"tiny-latency": 5.0}, end=50.0, outcome="time_limit", end_availability=0.0)
    failed = evaluate.recovery(harmless, stuck, 30.0)
    assert failed.status is Status.FAILED
    assert failed.message() == ("recovery: expected recovered within 50 drill s (availability >= 95.0 % held 20 s, "
                                "causes gone: tiny-latency); measured not recovered at the time limit (t+50 s): "
                                "availability 0.0 % over the last window")
    held = record(rec.seconds, {"tiny-latency": 5.0}, end=50.0, outcome="time_limit", end_availability=1.0)
    assert evaluate.recovery(harmless, held, 30.0).measured.endswith(
        "the SLO held, so a named cause was still present (tiny-latency)")
    halted = evaluate.recovery(harmless, record(rec.seconds, {"tiny-latency": 5.0}, 40.0, outcome="halted"), 30.0)
    assert halted.status is Status.ERROR and "halted" in halted.measured
    calm = record(seconds(HEALTHY, HEALTHY, HEALTHY), {"tiny-latency": 5.0}, end=40.0, outcome="time_limit")
    assert evaluate.slo_breach(harmless, calm, 3).status is Status.FAILED
    assert evaluate.recovery(harmless, calm, None).status is Status.SKIPPED


def test_schedule_names_failed_and_never_due_steps(march):
    rec = record((), {"surge": 20.0}, end=100.0, failed=())
    check = evaluate.schedule(march, rec)
    assert check.status is Status.FAILED and "leak never came due (after surge)" in check.measured
    rec = DrillRecord(**{**rec.__dict__, "failed": (("leak", "connection refused"),)})
    check = evaluate.schedule(march, rec)
    assert check.status is Status.FAILED and "leak failed: connection refused" in check.measured
    rec = record((), {"surge": 20.0, "leak": 23.0}, end=100.0)
    assert evaluate.schedule(march, rec).status is Status.PASSED


def test_steady_state_pass_fail_and_no_data(harmless):
    ok = record((), {}, 0.0)
    assert evaluate.steady_state(harmless, ok).status is Status.PASSED
    refused = DrillRecord(outcome="refused", speed=SPEED, first_wall=1000.0, steady_failed=(0.5, 2000.0),
                          steady_wall=1030.0)
    check = evaluate.steady_state(harmless, refused)
    assert check.status is Status.FAILED and check.seconds == 30.0
    assert check.measured == "availability 50.0 %, p95 2000 ms"
    assert evaluate.steady_state(harmless, DrillRecord(outcome="error", speed=SPEED, first_wall=1.0)).status is Status.ERROR


@pytest.mark.parametrize(("total", "par", "status"), [(70.0, 70.0, Status.PASSED), (69.9, 70.0, Status.FAILED)])
def test_autopilot_score_at_or_above_par(total, par, status):
    check = evaluate.autopilot_score(total, par, [("impact", 25.0, 25.0), ("learning", 1.0, 5.0)])
    assert check.status is status and ("short: learning 1/5" in check.measured)


@pytest.mark.parametrize(("wrong", "status"), [(35.0, Status.PASSED), (100.0, Status.FAILED), (101.0, Status.FAILED)])
def test_wrong_turns_must_score_strictly_below_the_autopilot(wrong, status):
    assert evaluate.wrong_turns(wrong, 100.0, "recovered", 91).status is status


def test_wrong_turns_speed_fits_the_script_in_a_quarter_minute(march, harmless):
    assert evaluate.wrong_turns_speed(march, 10.0) == 362  # restart at 5400 s after the alert, surge at 20 s: 5420 / 15
    assert evaluate.wrong_turns_speed(harmless, 10.0) == 10.0  # a short script: as fast as asked, no faster
    assert evaluate.wrong_turns_speed(march.model_copy(update={"wrong_turns": []}), 10.0) == 10.0


def test_record_from_events():
    def ev(i, offset, kind, **data):
        return Event(i, 1000.0 + offset / SPEED, offset, Source.RUNNER, kind, "lab", data)

    events = [ev(1, 0, "steady_state.ok", availability=1.0, p95_ms=30.0), ev(2, 0, "drill.started"),
              ev(3, 20, "fault.injected", step="surge", fault_id="surge-1"),
              ev(4, 23, "fault.failed", step="leak", error="boom"),
              ev(5, 40, "fault.reverted", step="surge", fault_id="surge-1"),
              ev(6, 90, "drill.time_limit", availability=0.4),
              ev(7, 90, "fault.reverted", fault_id="surge-1"), ev(8, 90, "drill.ended", outcome="time_limit")]
    rec = evaluate.record_from(events, [Second(10, 5, 5)], SPEED, began_wall=995.0)
    assert rec.outcome == "time_limit" and rec.end_s == 90 and rec.end_availability == 0.4
    assert rec.injected_at("surge") == 20 and rec.reverted_at("surge") == 40  # the cleanup revert is not the schedule's
    assert rec.failed == (("leak", "boom"),) and rec.steady == (1.0, 30.0) and rec.first_wall == 995.0


# --- a scenario whose site holds its SLO (slo_breaks: false) -----------------------------------------------


def holding(scenario):
    return scenario.model_copy(update={"slo_breaks": False})


def test_in_a_scenario_that_holds_a_fault_s_harm_must_show_as_an_alert(harmless):
    samples = seconds(HEALTHY, HEALTHY, HEALTHY, HEALTHY)
    warned = DrillRecord(**{**record(samples, {"leak": 5.0}, 50.0).__dict__,
                            "alerts": (("DbConnectionsSaturated", 3.0), ("DbConnectionsSaturated", 25.0))})
    check = evaluate.symptom("leak", NONE, warned, 0.95, 3, holds=True)
    assert check.status is Status.PASSED and check.measured.startswith("DbConnectionsSaturated fired at t+25 s")
    silent = record(samples, {"leak": 5.0}, 50.0)
    check = evaluate.symptom("leak", NONE, silent, 0.95, 3, holds=True)
    assert check.status is Status.FAILED and "no alert fired while active" in check.measured


def test_slo_holds_and_the_drill_runs_to_its_time_limit(harmless):
    scenario = holding(harmless)
    calm = record(seconds(HEALTHY, (10, 10), HEALTHY, HEALTHY), {"tiny-latency": 5.0}, end=50.0,
                  outcome="time_limit", end_availability=1.0)
    held = evaluate.slo_holds(scenario, calm, 3)
    assert held.name == "slo_holds" and held.status is Status.PASSED, held.message()
    assert evaluate.recovery(scenario, calm, None).status is Status.PASSED
    dip = record(seconds(HEALTHY, DOWN, DOWN, DOWN, HEALTHY, HEALTHY, HEALTHY), {"tiny-latency": 5.0}, end=70.0)
    broke = evaluate.slo_holds(scenario, dip, 3)
    assert broke.status is Status.FAILED and broke.measured.startswith("the SLO broke: broke at t+30 s")
    check = evaluate.recovery(scenario, dip, None)
    assert check.status is Status.FAILED and "saw an outage" in check.measured
