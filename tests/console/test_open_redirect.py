"""`next` (where login goes afterwards) is only ever a path on this console: every value either
lands on a console path or is refused with 400 before any session is set, never a 500 and never
an off-site Location; the same values through GET /login (carried into the form) and POST /login."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from .app_helpers import csrf, make_app

REFUSED = [
    "\t/evil.example", "/\t/evil.example", "/%09/evil.example", "/%09%09/evil.example", "%09//evil.example",
    "/\n/evil.example", "/%0a/evil.example", "/\r\n/evil.example", "/%0d%0aSet-Cookie:%20x=1",
    "/team\r\nLocation: http://evil.example", "/team\x00", "/%00/evil.example", "/team\x7f", "/\x0b/evil.example",
    "/\\evil.example", "\\\\evil.example", "/%5Cevil.example", "%5C%5Cevil.example", "/%5c%5cevil.example",
    "http://evil.example", "https://evil.example/team", "http:evil.example", "http:/evil.example",
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>alert(1)</script>",
    "//evil.example", "///evil.example", "//evil.example/team", " //evil.example", "/%2F%2Fevil",
    "/%2f/evil.example", "%2F%2Fevil.example", "/%252F%252Fevil", "/%25252F%25252F%25252Fevil",
    "/\uff0f\uff0fevil.example", "/\u2215\u2215evil.example", "/%E2%88%95%E2%88%95evil", "/\u3002evil",
    "\u202e/team", "/te\u200bam", "/%C0%AF%C0%AFevil.example", "/%ff%fe", "/\x85evil",
    "team", "evil.example", "?next=/team", "#/team", " ",
    "/" + "a" * 5000, "/team?" + "%2F" * 2000,
]
ACCEPTED = ["/team", "/history", "/facilitator", "/team?event=3", "/team#result", "/runs/2026-x/report",
            "/..//evil.example", "/team?next=//evil.example", "/team?" + "x" * 900]


REFUSAL = ("Error: next: not a path on this console (a path such as /team; control characters, backslashes, "
           "schemes and hosts are refused); nothing was done")


def _message(html: str) -> str:
    return re.search(r'id="error">([^<]*)<', html).group(1)


def _on_console(location: str) -> None:
    """Assert a Location stays on this console, also as a browser reads it (tabs and newlines
    dropped, backslashes taken for slashes)."""
    browser_view = re.sub(r"[\t\r\n]", "", location).replace("\\", "/")
    parts = urlsplit(location)
    assert location.startswith("/") and not browser_view.startswith("//"), location
    assert not parts.scheme and not parts.netloc, location


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


def _post_login(client, who_token: str, next_value: str):
    form = {"csrf_token": csrf(client.get("/login").text), "token": who_token, "name": "alice", "next": next_value}
    return client.post("/login", data=form)


@pytest.mark.parametrize("value", REFUSED + ACCEPTED)
def test_next_lands_on_a_console_path_or_is_refused_before_any_session(app, value):
    token = app.config["CONSOLE_TOKENS"]["team"]
    shown = app.test_client().get("/login", query_string={"next": value})
    assert shown.status_code in (200, 400), (value, shown.status_code)
    if shown.status_code == 400:
        assert "Set-Cookie" not in shown.headers  # refused before the form and its CSRF token
        assert _message(shown.text) == REFUSAL  # one fixed line: the value is never repeated
    else:
        carried = re.search(r'name="next" value="([^"]*)"', shown.text).group(1)
        _on_console(carried.replace("&amp;", "&").replace("&#34;", '"'))

    client = app.test_client()
    answer = _post_login(client, token, value)
    assert answer.status_code in (303, 400), (value, answer.status_code)
    if answer.status_code == 400:
        assert "Set-Cookie" not in answer.headers, value  # no session was set or changed
        assert _message(answer.text) == REFUSAL
        not_in = client.get("/team", headers={"Accept": "text/html"})  # not logged in
        assert not_in.status_code == 302 and not_in.headers["Location"].startswith("/login")
        assert value in REFUSED, f"{value!r} was refused"
    else:
        _on_console(answer.headers["Location"])
        assert value in ACCEPTED, f"{value!r} was accepted as {answer.headers['Location']!r}"


@pytest.mark.parametrize("who, page", [("team", "/team"), ("facilitator", "/facilitator")])
def test_an_absent_or_empty_next_goes_to_the_role_page(app, who, page):
    token = app.config["CONSOLE_TOKENS"][who]
    assert _post_login(app.test_client(), token, "").headers["Location"] == page
    client = app.test_client()
    form = {"csrf_token": csrf(client.get("/login").text), "token": token, "name": "alice"}
    assert client.post("/login", data=form).headers["Location"] == page


def test_the_reported_tab_redirect_is_refused_on_the_running_console(console):
    """The issue's own request, over real HTTP to `gameday console`: 400, no cookie, no Location."""
    import requests

    http = requests.Session()
    page = http.get(console.info["url"] + "login", timeout=10)
    cookies_before = http.cookies.get_dict()
    for value in ("/%09/evil.example", "/\t/evil.example", "/team\r\nX-Evil: 1"):
        answer = http.post(console.info["url"] + "login", timeout=10, allow_redirects=False,
                           data={"csrf_token": csrf(page.text), "token": console.info["team_token"], "name": "eve",
                                 "next": value})
        assert answer.status_code == 400 and "Location" not in answer.headers, (value, answer.status_code)
        assert "Set-Cookie" not in answer.headers and http.cookies.get_dict() == cookies_before
    answer = http.get(console.info["url"] + "login", params={"next": "/%09/evil.example"}, timeout=10)
    assert answer.status_code == 400 and "next: not a path on this console" in answer.text
