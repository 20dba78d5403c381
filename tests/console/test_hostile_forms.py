"""Console forms over real HTTP (the real app on a real socket, no stack needed) with hostile
bodies: a one-line error (JSON when asked for), 400 (413 past the size limit), no session made,
no fault injected, and the console keeps answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from werkzeug.serving import make_server

from .app_helpers import csrf, make_app

JSON = {"Accept": "application/json"}
FORM = {**JSON, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def console_url(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    app = make_app(tmp_path)
    app.config["TESTING"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", app.config["CONSOLE_TOKENS"]
    finally:
        server.shutdown()
        thread.join(5)


def _form(session: requests.Session, base: str) -> str:
    return csrf(session.get(f"{base}/login").text)


def _one_line_error(r: requests.Response, status: int, says: str, elapsed: float) -> str:
    assert elapsed < 2.0
    assert r.status_code == status, (r.status_code, r.text[:500])
    error = r.json()["error"]
    assert error.startswith("Error: ") and says in error and "\n" not in error, error
    return error


@pytest.mark.parametrize(
    "body, status, says",
    [
        ("name=caf%E9", 400, "form field 'name': not UTF-8: byte 0xe9 at offset 3"),
        ("name=%FF%FE%00", 400, "form field 'name': not UTF-8: byte 0xff at offset 0"),
        ("caf%E9=x", 400, "not UTF-8: byte 0xe9 at offset 3"),
        (b"name=\xe9t\xe9", 400, "form body: byte 0xe9 at offset 5 is not URL-encoded"),
        (bytes(range(256)) * 8, 400, "is not URL-encoded"),
        ("name=" + "x" * (100 * 1024), 413, "the console takes at most 64 KB"),
    ],
    ids=["latin-1-value", "binary-value", "latin-1-name", "raw-latin-1", "binary", "huge"],
)
def test_a_hostile_login_form_is_refused_and_logs_nobody_in(console_url, body, status, says):
    base, tokens = console_url
    with requests.Session() as s:
        token = _form(s, base)
        data = body if isinstance(body, bytes) else f"csrf_token={quote(token)}&token={tokens['facilitator']}&{body}"
        started = time.monotonic()
        r = s.post(f"{base}/login", data=data, headers=FORM, allow_redirects=False)
        _one_line_error(r, status, says, time.monotonic() - started)
        assert s.get(f"{base}/facilitator", headers=JSON, allow_redirects=False).status_code == 401  # no session


@pytest.mark.parametrize(
    "params, says",
    [
        ("connections=[&a [1, 2], *a]", "aliases (*a) are not allowed"),
        ("connections=" + "[" * 5000, "nested deeper than 16 levels"),
        ("connections=!!python/object/apply:os.system [true]", "tag !!python/object/apply:os.system is not allowed"),
        ("connections={a: 1, a: 2}", "duplicate key 'a'"),
    ],
    ids=["alias", "deep", "python-tag", "duplicate-key"],
)
def test_hostile_fault_parameters_from_the_facilitator_inject_nothing(console_url, params, says):
    base, tokens = console_url
    with requests.Session() as s:
        token = _form(s, base)
        r = s.post(f"{base}/login", data={"csrf_token": token, "token": tokens["facilitator"], "name": "fac"},
                   allow_redirects=False)
        assert r.status_code == 303, r.text[:300]
        page = s.get(f"{base}/facilitator").text
        started = time.monotonic()
        r = s.post(f"{base}/facilitator/inject", data={"csrf_token": csrf(page), "kind": "connection_hog", "params": params},
                   headers=JSON, allow_redirects=False)
        _one_line_error(r, 400, says, time.monotonic() - started)
        assert s.get(f"{base}/login").status_code == 200
