"""The toolbox's forms: limits shown in the page (maxlength, min/max, pattern) and enforced by the
server with a message naming the field and its limit that never repeats the input; too large a
request refused with the limit; booleans as yes/no and choices once each; a summary on resolve;
destructive actions confirmed first; what was typed kept when the server refuses it."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import requests

from .app_helpers import logged_in, make_app
from .console_helpers import browser_login, Client, ensure_halted, shot, start_drill
from lab.actions import ACTIONS
from lab.timeline.store import TimelineStore

LONG_NOTE = "the pool is full " * 242 + "SEE-ME"  # 4,120 characters
ERROR_RE = re.compile(r'class="flash error form-error" role="alert">([^<]*)<')


def _form(page_html: str, action: str) -> str:
    start = page_html.index(f'data-action="{action}"')
    return page_html[start:page_html.index("</form>", start)]


def _options(form_html: str, field: str) -> list[tuple[str, str, bool]]:
    select = re.search(rf'<select name="arg_{field}"[^>]*>(.*?)</select>', form_html, re.S).group(1)
    return [(html.unescape(v), html.unescape(t), bool(sel))
            for v, sel, t in re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select)]


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def test_the_page_shows_each_limit_of_the_argument_models(app):
    page = logged_in(app, "team", "alice").get("/team").text
    note = _form(page, "note")
    assert re.search(r'<textarea name="arg_text"[^>]*maxlength="4000"[^>]*required', note)
    assert 'pattern="[a-z0-9][a-z0-9_\\-]{0,63}"' in note  # the hypothesis tag, valid as an HTML pattern
    assert 'maxlength="1000"' in _form(page, "resolve") and 'name="arg_summary"' in _form(page, "resolve")
    assert re.search(r'name="arg_workers" value="" min="1" max="64"', _form(page, "scale-web"))
    assert re.search(r'name="arg_older_than_s" value="" min="0" max="86400" placeholder="10"',
                     _form(page, "terminate-idle-connections"))
    assert 'min="1"' in _form(page, "kill-query")  # pid > 0
    assert 'maxlength="63" pattern="[a-z_][a-z0-9_.]*"' in _form(page, "set-db-setting")


def test_booleans_are_yes_or_no_and_each_choice_appears_once(app):
    page = logged_in(app, "team", "alice").get("/team").text
    assert _options(_form(page, "terminate-blocking"), "waiting_only") == [("false", "no (default)", True),
                                                                         ("true", "yes", False)]
    state = _options(_form(page, "terminate-idle-connections"), "state")
    assert state[0] == ("any", "any (default)", True)
    assert sorted(v for v, _, _ in state) == ["any", "idle", "idle in transaction"]  # "any" once
    for action in ("restart", "role", "update", "disable-feature"):  # no choice is made for the team
        first = _options(_form(page, action), re.search(r'<select name="arg_(\w+)"', _form(page, action)).group(1))[0]
        assert first == ("", "choose...", True), action
    assert "False" not in page and ">true<" not in page


def test_an_over_long_note_is_refused_with_its_limit_and_kept_in_the_form(app):
    team = logged_in(app, "team", "alice")
    answer = team.post("/team/act", data={"csrf_token": team.csrf, "action": "note", "arg_text": LONG_NOTE,
                                          "arg_hypothesis": "pool-full"})
    assert answer.status_code == 400
    errors = ERROR_RE.findall(answer.text)
    assert errors == [f"note: text: at most 4000 characters (you sent {len(LONG_NOTE)})"]
    assert "SEE-ME" not in errors[0]
    note = _form(answer.text, "note")  # the team page again, the note's form filled with what was typed
    assert html.unescape(re.search(r'<textarea name="arg_text"[^>]*>(.*?)</textarea>', note, re.S).group(1)) == LONG_NOTE
    assert 'name="arg_hypothesis" value="pool-full"' in note
    assert answer.text.count("SEE-ME") == 1  # only in the form, nowhere else


@pytest.mark.parametrize("action, form, message", [
    ("scale-web", {"arg_workers": "many"}, "scale-web: workers: a whole number from 1 to 64"),
    ("scale-web", {"arg_workers": "65"}, "scale-web: workers: a whole number from 1 to 64"),
    ("restart", {}, "restart: service: required; one of db, web, proxy, loadgen"),
    ("restart", {"arg_service": "database" * 50}, "restart: service: one of db, web, proxy, loadgen"),
    ("terminate-blocking", {"arg_waiting_only": "maybe"}, "terminate-blocking: waiting_only: one of no, yes"),
    ("note", {"arg_text": "x", "arg_hypothesis": "Not A Tag"}, "note: hypothesis: must match ^[a-z0-9][a-z0-9_-]{0,63}$"),
    ("resolve", {}, "resolve: summary: required; at most 1000 characters"),
    ("resolve", {"arg_summary": "   \n"}, "resolve: summary: required; at most 1000 characters"),
    ("resolve", {"arg_summary": "y" * 1001}, "resolve: summary: at most 1000 characters (you sent 1001)"),
])
def test_refused_arguments_name_the_field_and_what_is_valid(app, action, form, message):
    team = logged_in(app, "team", "alice")
    answer = team.post("/team/act", data={"csrf_token": team.csrf, "action": action, **form})
    assert answer.status_code == 400
    assert ERROR_RE.findall(answer.text) == [message]


def test_a_body_over_the_limit_is_refused_with_the_limit_in_kb(app):
    team = logged_in(app, "team", "alice")
    answer = team.post("/team/act", data={"csrf_token": team.csrf, "action": "note", "arg_text": "z" * 100_000})
    assert answer.status_code == 413
    assert re.search(r'id="error">([^<]*)<', answer.text).group(1) == (
        "Error: the request is too large: the console takes at most 64 KB; nothing was done.")


# --- against the running console, with a drill ------------------------------------------------------


@pytest.fixture(scope="module")
def drill(console, march_stack):
    facilitator = Client(console.info["url"], console.info["facilitator_token"], "fran")
    run_dir = start_drill(facilitator, march_stack, "forms", speed=10)
    try:
        yield run_dir
    finally:
        ensure_halted(facilitator, march_stack)


def _team_events(run_dir: Path) -> list:
    return [e for e in TimelineStore(run_dir / "events.jsonl").read() if e.source.value == "team"]


@pytest.mark.integration
def test_a_destructive_action_runs_only_once_confirmed(drill, console):
    team = Client(console.info["url"], console.info["team_token"], "alice")
    form = {"action": "terminate-idle-connections", "arg_state": "idle in transaction", "arg_older_than_s": "2"}
    before = len(_team_events(drill))
    first = team.post("/team/act", form)
    assert first.status_code == 200 and 'id="confirm"' in first.text
    assert re.search(r"<th>state</th><td>idle in transaction</td>", first.text)
    assert re.search(r"<th>older than \(drill s\)</th><td>2</td>", first.text)
    assert 'name="confirm" value="yes"' in first.text and 'name="back" value="yes"' in first.text
    assert len(_team_events(drill)) == before  # nothing ran

    back = team.post("/team/act", {**form, "back": "yes"})
    assert back.status_code == 200 and len(_team_events(drill)) == before
    again = _form(back.text, "terminate-idle-connections")
    assert ("idle in transaction", "idle in transaction", True) in _options(again, "state")
    assert 'name="arg_older_than_s" value="2"' in again

    done = team.post("/team/act", {**form, "confirm": "yes"})
    assert done.status_code == 303
    events = _team_events(drill)
    assert len(events) == before + 1 and events[-1].kind == "action.terminate-idle-connections"
    assert events[-1].data["args"] == {"older_than_s": 2.0, "state": "idle in transaction"}
    assert not ACTIONS["inspect-db"].destructive  # a read runs at once
    assert team.post("/team/act", {"action": "inspect-db"}).status_code == 303


@pytest.mark.integration
def test_limits_hold_on_the_running_console(drill, console):
    team = Client(console.info["url"], console.info["team_token"], "alice")
    before = len(_team_events(drill))
    answer = team.post("/team/act", {"action": "note", "arg_text": LONG_NOTE})
    assert answer.status_code == 400 and ERROR_RE.findall(answer.text) == [
        f"note: text: at most 4000 characters (you sent {len(LONG_NOTE)})"]
    big = team.post("/team/act", {"action": "note", "arg_text": "z" * 100_000})
    assert big.status_code == 413 and "at most 64 KB" in big.text and "zzzz" not in big.text
    assert len(_team_events(drill)) == before


@pytest.mark.integration
def test_the_browser_keeps_what_was_typed_and_confirms_before_terminating(drill, console, browser):
    page = browser_login(browser, console, "team", "bea")
    context = page.context
    try:
        note = page.locator("form.action[data-action='note']")
        assert note.locator("textarea[name=arg_text]").get_attribute("maxlength") == "4000"
        hypothesis = note.locator("input[name=arg_hypothesis]")
        hypothesis.fill("Not A Tag")  # the browser applies the model's pattern itself
        assert hypothesis.evaluate("e => e.validity.patternMismatch") is True
        hypothesis.fill("pool-full")
        assert hypothesis.evaluate("e => e.validity.valid") is True
        blocking = page.locator("form.action[data-action='terminate-blocking'] select[name=arg_waiting_only]")
        assert blocking.locator("option").all_inner_texts() == ["no (default)", "yes"]

        # Chromium cuts what is typed at maxlength; a client without the limits (here: removed) sends
        # a long note: the server refuses it and the text stays in the form
        note.evaluate("f => { f.setAttribute('novalidate', ''); f.querySelector('textarea').removeAttribute('maxlength'); }")
        note.locator("textarea[name=arg_text]").fill(LONG_NOTE)
        note.locator("button[type=submit]").click()
        page.wait_for_selector("form.action[data-action='note'] .form-error")
        note = page.locator("form.action[data-action='note']")
        assert note.locator(".form-error").inner_text() == f"note: text: at most 4000 characters (you sent {len(LONG_NOTE)})"
        assert note.locator("textarea[name=arg_text]").input_value() == LONG_NOTE
        assert note.locator("input[name=arg_hypothesis]").input_value() == "pool-full"
        shot(page, "forms-kept-after-error")

        # a destructive action: confirmation first; Back keeps the values; Confirm runs it
        terminate = page.locator("form.action[data-action='terminate-idle-connections']")
        terminate.locator("select[name=arg_state]").select_option("idle in transaction")
        terminate.locator("input[name=arg_older_than_s]").fill("3")
        terminate.locator("button[type=submit]").click()
        page.wait_for_selector("#confirm")
        assert "idle in transaction" in page.locator("#confirm-values").inner_text()
        shot(page, "forms-confirm")
        page.click("#confirm-back")
        terminate = page.locator("form.action[data-action='terminate-idle-connections']")
        terminate.wait_for()
        assert terminate.locator("select[name=arg_state]").input_value() == "idle in transaction"
        assert terminate.locator("input[name=arg_older_than_s]").input_value() == "3"
        before = len(_team_events(drill))
        terminate.locator("button[type=submit]").click()
        page.click("#confirm-yes")
        page.locator(".finding[data-kind='action.terminate-idle-connections']").first.wait_for()
        events = _team_events(drill)
        assert len(events) == before + 1 and events[-1].actor == "bea"
        assert events[-1].data["args"] == {"older_than_s": 3.0, "state": "idle in transaction"}
        shot(page, "forms-confirmed")
    except Exception:
        shot(page, "forms-failure")
        raise
    finally:
        context.close()


@pytest.mark.integration
def test_resolve_needs_a_summary_and_records_it(drill, console):
    """Last in this file: resolving may end the incident."""
    team = Client(console.info["url"], console.info["team_token"], "alice")
    before = len(_team_events(drill))
    refused = team.post("/team/act", {"action": "resolve"})
    assert refused.status_code == 400 and "resolve: summary: required" in refused.text
    assert len(_team_events(drill)) == before
    summary = "Leaked idle-in-transaction sessions held every connection; we terminated them."
    assert team.post("/team/act", {"action": "resolve", "arg_summary": summary}).status_code == 303
    resolved = [e for e in _team_events(drill) if e.kind == "resolve"]
    assert resolved and resolved[-1].data["args"] == {"summary": summary} and resolved[-1].actor == "alice"
