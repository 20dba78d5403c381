"""The facilitator in the browser: log in, start the March replay for a team, release a hint,
inject an ad-hoc fault, watch the score, halt, open the report, and find the run in the history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .console_helpers import browser_login, drill_marker, shot
from lab.faults import engine
from lab.timeline.store import TimelineStore

pytestmark = pytest.mark.integration


def test_facilitator_starts_releases_a_hint_injects_and_halts(browser, console, march_stack):
    page = browser_login(browser, console, "facilitator", "fran")
    context = page.context
    try:
        page.select_option("#start-form select[name=scenario]", "march-2023-db-overload")
        page.fill("#start-form input[name=team]", "blue")
        page.fill("#start-form input[name=speed]", "10")
        assert page.is_checked("#start-form input[name=lobby]")  # a lobby first, by default
        page.click("#start-form button[type=submit]")
        page.wait_for_selector("#phase[data-phase=lobby]", timeout=90_000)
        assert "Start the clock" in page.locator("#go-form").inner_text()
        assert "gameday start" in page.locator("#waiting").inner_text()
        shot(page, "facilitator-lobby")
        page.click("#go-form button[type=submit]")
        # the page follows the drill by itself (event stream): starting, then running
        page.wait_for_selector("#phase[data-phase=running]", timeout=90_000)
        page.wait_for_selector("#hidden >> text=tournament launch")
        run_dir = drill_marker(march_stack)["run_dir"]

        page.click("form.hint[data-hint=idle-in-tx] button")
        page.wait_for_selector("form.hint[data-hint=idle-in-tx] >> text=released")
        page.select_option("#inject-form select[name=kind]", "net_latency")
        page.fill("#inject-form textarea[name=params]", "latency_ms=5")
        page.click("#inject-form button[type=submit]")
        page.wait_for_selector(".flash.ok >> text=injected net_latency")
        # the timeline grows while the page is open: the surge arrives through the stream
        page.wait_for_selector("#timeline tr:has-text('fault.injected'):has-text('surge')", timeout=30_000)
        page.wait_for_selector("#score-total", timeout=15_000)
        shot(page, "facilitator-running")

        page.click("#halt-form button[type=submit]")
        page.wait_for_selector("#phase[data-phase=ended]", timeout=60_000)
        events = TimelineStore(Path(run_dir) / "events.jsonl").read()
        hint = next(e for e in events if e.kind == "hint.released")
        assert (hint.source.value, hint.actor, hint.data["id"]) == ("facilitator", "fran", "idle-in-tx")
        adhoc = next(e for e in events if e.kind == "fault.injected" and e.data.get("adhoc"))
        assert (adhoc.source.value, adhoc.data["kind"]) == ("facilitator", "net_latency")
        assert any(e.kind == "drill.halt" for e in events)
        assert not engine.journal_for(march_stack).active()  # the ad-hoc fault went with the drill

        page.wait_for_selector("#report-link", timeout=60_000)  # once the drill has written its reports
        shot(page, "facilitator-ended")
        page.click("#report-link")
        page.wait_for_selector("text=Score")
        assert "March 2023" in page.content()
        shot(page, "facilitator-report")

        page.goto(console.info["url"] + "history")
        row = page.locator(f"#runs tr[data-run='{Path(run_dir).name}']")
        assert "halted" in row.inner_text()
        assert re.search(r"\d+\.\d", row.inner_text())
        shot(page, "history")
    except Exception:
        shot(page, "facilitator-failure")
        raise
    finally:
        context.close()


def test_the_emergency_stop_button_reverts_every_fault_on_every_stack_and_says_who_pressed_it(browser, console, march_stack):
    leaked = engine.inject(march_stack, "connection_hog", {"connections": 2})
    slowed = engine.inject(march_stack, "net_latency", {"latency_ms": 20})
    page = browser_login(browser, console, "facilitator", "erin")
    context = page.context
    try:
        page.on("dialog", lambda dialog: dialog.accept())  # "Stop every drill ...?"
        page.click("#halt-all-form button[type=submit]")
        page.wait_for_selector(".flash.ok >> text=emergency stop", timeout=30_000)
        flash = page.locator(".flash.ok").inner_text()
        assert "0 drill(s) signalled, 2 fault(s) reverted on 1 stack(s)" in flash, flash
        assert not engine.journal_for(march_stack).active()
        reverted = {r["fault_id"]: r for r in engine.journal_for(march_stack).records() if r["op"] == "reverted"}
        for fault_id in (leaked, slowed):
            record = reverted[fault_id]
            assert (record["by"], record["reason"]) == ("halt --all", "emergency stop by erin (console)")
        shot(page, "facilitator-emergency-stop")
    finally:
        engine.revert_all(march_stack)
        context.close()
