"""Helpers of the console tests that use the real app through Flask's test client (no stack needed:
the console serves its pages for a stack that is not up)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask

from lab.catalog import CATALOG
from lab.console.app import ConsoleConfig, create_app

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(root: Path, stack: str = "nostack") -> Flask:
    app = create_app(ConsoleConfig(stack=stack, root=root, scenario_dir=CATALOG.scenario_dir))
    app.config["TESTING"] = True
    return app


def csrf(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, html[:500]
    return found.group(1)


def logged_in(app: Flask, who: str, name: str = "") -> Any:
    """A test client with a session of `who` ("team" or "facilitator"); its `csrf` attribute set."""
    client = app.test_client()
    token = app.config["CONSOLE_TOKENS"][who]
    answer = client.post("/login", data={"csrf_token": csrf(client.get("/login").text), "token": token,
                                         "name": name or who})
    assert answer.status_code == 303, answer.text
    client.csrf = csrf(client.get(answer.headers["Location"]).text)
    return client
