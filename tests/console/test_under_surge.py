"""While the March surge and leak take Arcade down, the console keeps answering: its pages and
its event stream never wait on the site (they read the drill's files, not Arcade or PostgreSQL).
The figures are printed; `benchmarks/console.py` measures them against the 200 ms goal."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from .console_helpers import ensure_halted, start_drill, wait_for
from lab.timeline.store import TimelineStore

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]
PAGES = ("/team", "/status", "/chart.svg", "/history", "/facilitator", "/facilitator/score")
WINDOW_S = 8.0


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def stream_first_event(client, run: str) -> float:
    """Seconds from opening the event stream to its first status tick."""
    started = time.monotonic()
    with client.http.get(client.url(f"/stream?run={run}&after=0"), stream=True, timeout=10) as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines(decode_unicode=True):
            if line == "event: tick":
                return time.monotonic() - started
    raise AssertionError("the stream closed without a tick")


def test_pages_and_stream_keep_answering_while_arcade_is_down(login, march_stack, capsys):
    facilitator, team = login("facilitator", "fran"), login("team", "bob")
    run_dir = start_drill(facilitator, march_stack, "surge", speed=10)
    try:
        events = run_dir / "events.jsonl"
        wait_for(lambda: any(e.kind == "alert.firing" for e in TimelineStore(events).read()), 90,
                 "Arcade to go down (SiteAvailabilityLow firing)")
        arcade = march_stack.urls()["arcade"] + "leaderboard?game=tetra"
        page_times: list[float] = []
        stream_times: list[float] = []
        failures: list[str] = []
        arcade_ok = arcade_total = 0
        stop = time.monotonic() + WINDOW_S

        def pages(client) -> None:
            i = 0
            while time.monotonic() < stop:
                path = PAGES[i % len(PAGES)] if client is facilitator else PAGES[i % 4]
                started = time.monotonic()
                answer = client.get(path, timeout=10)
                page_times.append(time.monotonic() - started)
                if answer.status_code != 200:
                    failures.append(f"{path}: {answer.status_code}")
                i += 1
                time.sleep(0.05)

        def streams() -> None:
            while time.monotonic() < stop:
                stream_times.append(stream_first_event(team, run_dir.name))

        workers = [threading.Thread(target=pages, args=(c,)) for c in (facilitator, team)]
        workers.append(threading.Thread(target=streams))
        for w in workers:
            w.start()
        while time.monotonic() < stop:  # and Arcade, at the same time, fails its players
            arcade_total += 1
            try:
                arcade_ok += requests.get(arcade, timeout=3).status_code == 200
            except requests.RequestException:
                pass
            time.sleep(0.2)
        for w in workers:
            w.join()
        with capsys.disabled():
            print(f"\nconsole under surge: {len(page_times)} page requests p50 {sorted(page_times)[len(page_times) // 2] * 1000:.0f} ms "
                  f"p99 {p99(page_times) * 1000:.0f} ms max {max(page_times) * 1000:.0f} ms; "
                  f"{len(stream_times)} stream opens, first tick p99 {p99(stream_times) * 1000:.0f} ms; "
                  f"Arcade answered {arcade_ok}/{arcade_total} meanwhile")
        assert not failures, failures
        assert arcade_ok / max(1, arcade_total) < 0.5, "Arcade was not overloaded during the measurement"
        assert len(page_times) >= 40 and len(stream_times) >= 3
        # a bound with room for a shared CI machine; the goal (200 ms) is tracked by the benchmark
        assert p99(page_times) < 1.0 and p99(stream_times) < 1.5
    finally:
        ensure_halted(facilitator, march_stack)
