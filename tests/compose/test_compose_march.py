"""The March 2023 replay on the compose stack, as on the embedded one: the surge and the leak take
the site down, the autopilot follows the runbook, the site heals. Availability is measured by an
independent client through the site's front door (Toxiproxy's `arcade` listener)."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

import pytest

from lab.faults import engine
from lab.runner import scenarios
from lab.runner.drill import Drill, DrillOptions

SPEED = 10.0


class Watcher:
    """Polls the leaderboard ten times a second once drill time runs; keeps (drill time, ok)."""

    def __init__(self, url: str, drill: Drill):
        self.url = url
        self.drill = drill
        self.samples: list[tuple[float, bool]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.drill.started.wait(0.1):
            if self.stop.is_set():
                return
        while not self.stop.is_set():
            try:
                with urllib.request.urlopen(self.url, timeout=3) as resp:
                    ok = resp.status == 200
            except (urllib.error.URLError, OSError):
                ok = False
            self.samples.append((self.drill.clock.now(), ok))
            time.sleep(0.1)

    def first_below(self, threshold: float, start: float, width: float = 10.0) -> float | None:
        for t, _ in self.samples:
            if t < start:
                continue
            inside = [ok for u, ok in self.samples if t <= u < t + width]
            if len(inside) >= 5 and sum(inside) / len(inside) < threshold:
                return t
        return None

    def availability(self, start: float, end: float) -> float:
        inside = [ok for t, ok in self.samples if start <= t < end]
        assert len(inside) >= 5, f"too few samples in [{start}, {end})"
        return sum(inside) / len(inside)


@pytest.fixture(scope="module")
def march():
    return scenarios.load(scenarios.resolve("march-2023-db-overload"))


def test_the_autopilot_follows_the_runbook_and_the_site_heals_on_compose(march, compose_stack):
    scenario, text = march
    stack = compose_stack(*scenario.stack.overrides())
    assert stack.mode == "compose"
    drill = Drill(scenario, text, stack, DrillOptions(speed=SPEED, responder="autopilot"))
    watch = Watcher(stack.urls()["arcade"] + "leaderboard?game=tetra", drill)
    watch.thread.start()
    try:
        result = drill.run()
        time.sleep(4)  # the site after the drill: the leak gone, the traffic back to its baseline
    finally:
        watch.stop.set()
        watch.thread.join()
    assert result.outcome == "recovered", result
    events = drill.timeline.read()
    kinds = [e.kind for e in events]
    assert kinds.index("fault.injected") < kinds.index("alert.firing") < kinds.index("ack")
    assert "action.inspect-db" in kinds and "action.terminate-idle-connections" in kinds
    assert kinds[-1] == "drill.ended"
    surge = next(e.offset_s for e in events if e.kind == "fault.injected" and e.data.get("step") == "surge")
    down = watch.first_below(0.10, surge)
    assert down is not None and down + 10 <= surge + 60, (surge, down)
    assert watch.availability(result.drill_seconds, result.drill_seconds + 40) > 0.9
    terminated = [e for e in events if e.kind == "action.terminate-idle-connections"]
    assert sum(e.data["result"]["terminated"] for e in terminated) >= 20  # the leak, ended for real
    assert (result.run_dir / "sli.jsonl").stat().st_size > 0  # the monitor sampled the compose stack
    assert not engine.journal_for(stack).active()
