"""An independent watcher for drills in tests: polls Arcade over HTTP, never through the lab's monitor."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request

from lab.runner.drill import Drill, DrillOptions


class Watcher:
    """GETs one Arcade path ten times a second and keeps (drill time sent, answered 200).

    Open loop: a request goes out every 0.1 s whether or not the last one has answered (each on
    a thread of its own, as a player's would), so a slow or busy site thins out no samples."""

    def __init__(self, url: str, drill: Drill):
        self.url, self.drill = url, drill
        self.samples: list[tuple[float, bool]] = []
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def _one(self, sent: float) -> None:
        try:
            with urllib.request.urlopen(self.url, timeout=3) as resp:
                ok = resp.status == 200
        except (urllib.error.URLError, OSError):
            ok = False
        with self._lock:
            self.samples.append((sent, ok))

    def run(self) -> None:
        while not self.drill.started.wait(0.1):  # drill time starts after the steady-state check
            if self.stop.is_set():
                return
        pending: list[threading.Thread] = []
        next_at = time.monotonic()
        while not self.stop.is_set():
            request = threading.Thread(target=self._one, args=(self.drill.clock.now(),), daemon=True)
            request.start()
            pending = [t for t in pending if t.is_alive()] + [request]
            next_at = max(next_at + 0.1, time.monotonic())  # behind (a starved machine): no burst to catch up
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        for request in pending:
            request.join()
        with self._lock:
            self.samples.sort()

    def first_below(self, threshold: float, start: float, width: float = 10.0) -> float | None:
        """The first drill time t >= start where availability over [t, t + width) is below threshold."""
        for t in [t for t, _ in self.samples if t >= start]:
            inside = [ok for u, ok in self.samples if t <= u < t + width]
            if len(inside) >= 5 and sum(inside) / len(inside) < threshold:
                return t
        return None

    def availability(self, start: float, end: float) -> float:
        inside = [ok for t, ok in self.samples if start <= t < end]
        assert len(inside) >= 5, f"too few samples in [{start}, {end})"
        return sum(inside) / len(inside)


def run_drill(scenario, text, stack, responder, speed=10.0, path="leaderboard?game=tetra"):  # type: ignore[no-untyped-def]
    """Run one drill with a watcher on `path`; (drill, watcher, result)."""
    drill = Drill(scenario, text, stack, DrillOptions(speed=speed, responder=responder))
    watcher = Watcher(stack.urls()["arcade"] + path, drill)
    watcher.thread.start()
    try:
        result = drill.run()
    finally:
        watcher.stop.set()
        watcher.thread.join()
    return drill, watcher, result
