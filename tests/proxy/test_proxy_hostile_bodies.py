"""The control API over real HTTP with the hostile corpus (tests/hostile_inputs.py) as bodies:
400 with a one-line JSON error, quickly, nothing changed, and the server keeps serving."""

from __future__ import annotations

import time

import pytest
import requests
from hostile_inputs import json_cases

GO_SAYS = {"nan": "invalid character 'N' looking for beginning of value"}  # Toxiproxy's own text for these
BODY_CASES = [c for c in json_cases() if c.name != "huge"]  # huge: refused before it is read, below


def _routes(api, echo) -> list[tuple[str, str]]:
    api.create("victim", echo.address)
    return [("POST", "/proxies"), ("POST", "/populate"), ("POST", "/proxies/victim"),
            ("POST", "/proxies/victim/toxics")]


@pytest.mark.parametrize("case", BODY_CASES, ids=lambda c: c.name)
def test_every_route_that_takes_a_body_refuses_it_in_one_line(api, echo, case):
    for method, path in _routes(api, echo):
        before = api.get("/proxies").json()
        started = time.monotonic()
        r = api.request(method, path, data=case.data)
        assert time.monotonic() - started < 2.0, path
        assert r.status_code == 400, (path, r.status_code, r.text[:300])
        error = r.json()["error"]
        says = GO_SAYS.get(case.name, case.says)
        assert error.startswith("bad request body: ") and says in error and "\n" not in error, (path, error)
        assert api.get("/proxies").json() == before, path
    assert api.get("/version").status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_read(api, proxy_server):
    started = time.monotonic()
    r = requests.post(f"{proxy_server.url}/proxies", data=b"[" + b" " * (2 << 20) + b"]", timeout=10)
    assert time.monotonic() - started < 2.0
    assert r.status_code == 400
    assert r.json() == {"error": "bad request: body larger than the limit of 1 MiB", "status": 400}
    assert api.get("/proxies").json() == {}
