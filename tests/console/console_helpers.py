"""Helpers of the console tests: logged-in HTTP clients, waiting for a drill's phase, screenshots."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from lab.stack import procs
from lab.stack.local import LocalStack

CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("GAMEDAY_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
SCENARIO = "march-2023-db-overload"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class Client:
    """A logged-in HTTP session that sends the CSRF token like the console's own forms do."""

    def __init__(self, base: str, token: str, name: str):
        self.base = base.rstrip("/")
        self.http = requests.Session()
        page = self.http.get(self.url("/login"), timeout=10)
        self.csrf = CSRF_RE.search(page.text).group(1)  # type: ignore[union-attr]
        done = self.http.post(self.url("/login"), data={"token": token, "name": name, "csrf_token": self.csrf},
                              timeout=10, allow_redirects=False)
        assert done.status_code == 303, done.text
        self.csrf = CSRF_RE.search(self.get(done.headers["Location"]).text).group(1)  # type: ignore[union-attr]

    def url(self, path: str) -> str:
        return self.base + path

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=kw.pop("timeout", 10), **kw)

    def post(self, path: str, data: dict[str, str], csrf: bool = True, **kw: Any) -> requests.Response:
        body = {**data, "csrf_token": self.csrf} if csrf else dict(data)
        return self.http.post(self.url(path), data=body, timeout=kw.pop("timeout", 60), allow_redirects=False, **kw)


def phase(client: Client) -> str:
    text = client.get("/status").text
    return re.search(r'data-phase="([a-z]+)"', text).group(1)  # type: ignore[union-attr]


def wait_for(what: Callable[[], Any], timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s: {message}")


def drill_marker(stack: LocalStack) -> dict[str, Any]:
    try:
        return json.loads((stack.run_dir / "drill.json").read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return {}


def start_drill(facilitator: Client, stack: LocalStack, team: str, speed: float, responder: str = "") -> Path:
    """Start a drill through the console and wait until drill time runs; its run directory."""
    answer = facilitator.post("/facilitator/start", {"scenario": SCENARIO, "team": team, "speed": f"{speed:g}",
                                                     "responder": responder})
    assert answer.status_code == 303, answer.text
    marker = wait_for(lambda: (m := drill_marker(stack)) and "started_wall" in m and m, 90, "the drill to start")
    return Path(marker["run_dir"])


def ensure_halted(facilitator: Client, stack: LocalStack) -> None:
    if (stack.run_dir / "drill.json").exists():
        facilitator.post("/facilitator/halt", {})
    assert procs.wait_until(lambda: phase(facilitator) in ("ended", "none"), 60, 0.2), phase(facilitator)


def browser_login(browser: Any, console: Any, who: str, name: str) -> Any:
    """A page of its own browser context, logged in to the console as `who` ("team" or "facilitator")
    under `name`, on that role's page (close it with page.context.close())."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.goto(console.info["url"] + "login?token=" + console.info[f"{who}_token"])
    page.fill("input[name=name]", name)
    page.click("#login button[type=submit]")
    page.wait_for_url("**/facilitator" if who == "facilitator" else "**/team")
    return page


def shot(page: Any, name: str) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True, timeout=90_000)  # a loaded machine renders slowly
    return path
