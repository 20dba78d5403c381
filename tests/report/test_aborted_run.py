"""A run whose drill process was lost: its outcome is "aborted" when the watchdog recorded
drill.aborted, and the reports say so (pure: timelines as data)."""

from __future__ import annotations

from lab.core.scoring import Timeline
from lab.core.timeline import Event, Source
from lab.report import facts


def event(i: int, kind: str, data: dict) -> Event:
    return Event(i, 1.7e9 + i, float(i), Source.RUNNER, kind, "lab", data)


STARTED = event(1, "drill.started", {"speed": 1.0})
ABORTED = event(3, "drill.aborted", {"reason": "runner lost", "faults": ["leak-1"]})


def test_a_run_ended_by_the_watchdog_is_aborted_and_one_cut_off_without_it_is_unknown():
    assert facts.outcome_of(Timeline((STARTED, event(2, "fault.injected", {}), ABORTED))) == "aborted"
    assert facts.outcome_of(Timeline((STARTED,))) is None
    # a drill that was stalled, lost its faults and then ended by itself keeps its own end
    assert facts.outcome_of(Timeline((STARTED, ABORTED, event(4, "drill.ended", {"outcome": "aborted"})))) == "aborted"
    assert facts.outcome_of(Timeline((STARTED, event(4, "drill.ended", {"outcome": "halted"})))) == "halted"


def test_the_abort_reads_as_the_end_of_the_timeline():
    assert facts.outcome_text("aborted").startswith("aborted (the drill's process was lost")
    assert facts.describe(ABORTED).startswith("Drill aborted: runner lost; the watchdog reverted its faults (leak-1)")
    reverted = event(2, "fault.reverted", {"kind": "connection_hog", "by": "watchdog", "reason": "runner lost"})
    assert facts.describe(reverted) == "Fault reverted by the watchdog (runner lost): connection_hog"
    assert "drill.aborted" in facts.SHOWN


def test_the_emergency_stop_reads_with_who_pressed_it_and_the_scorer_knows_it():
    from lab.core.scoring import KNOWN_PREFIXES

    pressed = Event(5, 1.7e9, 5.0, Source.FACILITATOR, "drill.halt_all", "ann@host", {"pressed_by": "ann@host"})
    assert facts.describe(pressed) == "Emergency stop of every drill (`gameday halt --all`), pressed by ann@host"
    assert "drill.halt_all" in facts.SHOWN and pressed.kind.startswith(KNOWN_PREFIXES)
