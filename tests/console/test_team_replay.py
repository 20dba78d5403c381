"""Two people play the March 2023 replay through the real console in Chromium, from what the page
shows: alice (incident commander) and bob (responder) log in while the drill waits in its lobby,
the facilitator starts the clock, they read each other's findings, fix the leak, resolve, and the
drill ends "resolved" after its relapse window. A second run resolves with the leak still there
and ends "resolved too early"; the team's page and the facilitator's both say so. Every page is
saved as a screenshot (tests/console/artifacts, or GAMEDAY_TEST_ARTIFACTS)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .console_helpers import browser_login, drill_marker, shot
from lab.actions import ACTIONS
from lab.faults import engine
from lab.timeline.store import TimelineStore

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]
SPEED = 5.0  # the relapse window is 60 drill s: 12 s of real time


def _act(page: Any, action: str, shots: str = "", **fields: str) -> int | None:
    """Fill an action's form and send it (confirming a destructive one); the event it recorded, once
    the page shows it (None when the drill had just ended and nothing was recorded)."""
    form = page.locator(f"form.action[data-action='{action}']")
    for name, value in fields.items():
        field = form.locator(f"[name=arg_{name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    if ACTIONS[action].destructive and page.locator("#confirm-yes").count():
        if shots:
            shot(page, shots)
        with page.expect_navigation():
            page.click("#confirm-yes")
    query = parse_qs(urlsplit(page.url).query)
    if "event" not in query:  # the drill ended before this act: the page says so, nothing is recorded
        assert "no drill is running" in page.locator("#error").inner_text()
        page.goto(page.url.split("/team")[0] + "/team")
        return None
    event = int(query["event"][0])
    page.wait_for_selector(f"#timeline tr[data-id='{event}']")
    return event


def _finding(page: Any, event: int) -> str:
    """A finding's headline and tables as a teammate's page shows it (pushed by the stream)."""
    found = page.locator(f"#finding-{event}")
    found.wait_for(timeout=15_000)
    return " ".join(found.inner_text().split())


def _availability(page: Any) -> float:
    text = page.locator("#availability").inner_text()
    return float(text.split()[0]) if text[:1].isdigit() else 0.0


def _start(fac: Any, team: str) -> None:
    """The facilitator opens a lobby for `team` (the default) from the start form."""
    fac.goto(fac.url.split("/facilitator")[0] + "/facilitator")
    fac.select_option("#start-form select[name=scenario]", "march-2023-db-overload")
    fac.fill("#start-form input[name=team]", team)
    fac.fill("#start-form input[name=speed]", f"{SPEED:g}")
    assert fac.is_checked("#start-form input[name=lobby]")
    fac.click("#start-form button[type=submit]")
    fac.wait_for_selector("#phase[data-phase=lobby]", timeout=90_000)


def _ended(page: Any) -> str:
    page.wait_for_selector("#phase[data-phase=ended]", timeout=90_000)
    return " ".join(page.locator("#phase").inner_text().split())


def test_two_people_resolve_the_march_replay_and_a_second_team_resolves_too_early(browser, console, march_stack):
    fac = browser_login(browser, console, "facilitator", "fran")
    alice = bob = None
    try:
        shot(fac, "01-facilitator-idle")
        _start(fac, "red")
        alice = browser_login(browser, console, "team", "alice")
        bob = browser_login(browser, console, "team", "bob")
        # the lobby: the story, no clock, baseline traffic on the chart, nothing to act on yet
        for page in (alice, bob):
            page.wait_for_selector("#lobby")
            assert "Sunday" in page.locator(".story").inner_text()
        assert "tournament" not in alice.content()
        alice.wait_for_selector("#chart >> text=before the clock starts", timeout=30_000)
        shot(alice, "02-team-lobby")
        shot(fac, "03-facilitator-lobby")
        fac.click("#go-form button[type=submit]")
        for page in (alice, bob):
            page.wait_for_selector("#phase[data-phase=running]", timeout=30_000)
        run_dir = Path(drill_marker(march_stack)["run_dir"])
        # the page pages them
        alice.wait_for_selector("#alerts >> text=SiteAvailabilityLow", timeout=90_000)
        assert alice.locator("#db").count() == 0  # the March site had no database dashboard
        shot(alice, "04-team-alert")

        _act(alice, "ack")
        _act(alice, "role", role="IC", name="alice")
        seen = _act(bob, "inspect-db")
        assert seen is not None
        # alice reads bob's finding as tables on her own page (the event stream brings it)
        found = _finding(alice, seen)
        assert "by bob" in found and "idle in transaction" in found and "age (drill s)" in found
        shot(alice, "05-team-finding-of-a-teammate")
        net = _act(bob, "check-network")
        assert "connect" in _finding(alice, net)
        _act(alice, "note", text="Every connection is taken, most idle in transaction: leaked sessions.",
             hypothesis="db-connections-exhausted")
        _act(bob, "terminate-idle-connections", shots="06-team-confirm", older_than_s="10",
             state="idle in transaction")
        _act(alice, "update", audience="external",
             text="Players could not reach Arcade; a fix is applied; next update in 30 minutes.")
        for _ in range(60):  # the status panel follows the probe once a second
            if _availability(alice) >= 95:
                break
            alice.wait_for_timeout(500)
        assert _availability(alice) >= 95, alice.locator("#status").inner_text()
        _act(alice, "resolve", summary="Leaked idle-in-transaction sessions held every connection; terminated them.")
        alice.wait_for_selector("#timeline >> text=declared the incident resolved", timeout=15_000)
        shot(alice, "07-team-resolving")
        shot(fac, "08-facilitator-resolving")
        # bob keeps looking during the relapse window: the leak may reopen a session as slots free up
        while bob.locator("#phase").get_attribute("data-phase") in ("running", "resolving"):
            look = _act(bob, "inspect-db")
            if look is None:
                break
            if "idle in transaction" in _finding(bob, look).split("longest transactions")[0]:
                _act(bob, "terminate-idle-connections", older_than_s="5", state="idle in transaction")
            bob.wait_for_timeout(1500)
        for page in (alice, bob, fac):
            assert _ended(page).endswith("resolved"), page.locator("#phase").inner_text()
        assert "every cause stayed gone" in alice.locator("#ending").inner_text()
        assert "resolved" in fac.locator("#ended").inner_text()
        assert alice.locator("#report-link").count() == 1
        shot(alice, "09-team-resolved")
        shot(fac, "10-facilitator-resolved")
        alice.click("#report-link")
        alice.wait_for_selector("text=Resolved")
        shot(alice, "11-team-report")
        alice.goto(alice.url.split("/runs")[0] + "/history")
        shot(alice, "12-team-history")

        events = TimelineStore(run_dir / "events.jsonl").read()
        people = {e.actor for e in events if e.source.value == "team"}
        assert people == {"alice", "bob"}
        assert next(e for e in events if e.kind == "drill.ended").data["outcome"] == "resolved"
        kinds = [e.kind for e in events]
        assert kinds.index("resolve") < kinds.index("drill.resolving") < kinds.index("drill.resolved")
        assert not engine.journal_for(march_stack).active()

        # a second team resolves while the leak is still there
        _start(fac, "blue")
        alice.goto(alice.url.split("/history")[0] + "/team")
        fac.click("#go-form button[type=submit]")
        alice.wait_for_selector("#phase[data-phase=running]", timeout=30_000)
        second = Path(drill_marker(march_stack)["run_dir"])
        alice.wait_for_selector("#alerts >> text=SiteAvailabilityLow", timeout=90_000)
        _act(alice, "ack")
        # a look, and a resolve on a guess while the leaked sessions are all still there
        _act(alice, "inspect-db")
        _act(alice, "resolve", summary="Probably a blip in the database; it should settle.")
        for page in (alice, fac):
            assert _ended(page).endswith("resolved too early"), page.locator("#phase").inner_text()
        assert "still there" in alice.locator("#ending").inner_text()
        assert "too early" in fac.locator("#ended").inner_text()
        shot(alice, "13-team-resolved-too-early")
        shot(fac, "14-facilitator-resolved-too-early")
        ended = [e for e in TimelineStore(second / "events.jsonl").read() if e.kind == "drill.resolved_too_early"]
        assert ended and (ended[0].data.get("causes_present") or ended[0].data.get("slo_broken"))
        assert not engine.journal_for(march_stack).active()
        assert not drill_marker(march_stack)
    except Exception:
        for name, page in (("alice", alice), ("bob", bob), ("facilitator", fac)):
            if page is not None:
                shot(page, f"failure-{name}")
        raise
    finally:
        for page in (alice, bob, fac):
            if page is not None:
                page.context.close()

