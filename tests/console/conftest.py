"""The console against a real stack: a March-2023-shaped stack, `gameday console` as a child
process (the launcher `gameday drill --console` uses), HTTP clients logged in with the printed
tokens, and headless Chromium from the OS packages driven by Playwright.

    march_stack   a real stack with the March scenario's settings (shared by the package)
    console       the console on it: url and tokens (from console.json), stopped at teardown
    login         requests sessions as the facilitator or a team member, with CSRF tokens
    browser       headless /usr/bin/chromium (no browser download); screenshots go to ARTIFACTS
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .console_helpers import ARTIFACTS, CHROMIUM, SCENARIO, Client
from lab.catalog import CATALOG
from lab.console.server import ConsoleProcess
from lab.stack.config import load_config
from lab.stack.local import LocalStack


@pytest.fixture(scope="package")
def console_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-gd")


@pytest.fixture(scope="package")
def march_stack(console_root: Path) -> Iterator[LocalStack]:
    scenario, _ = CATALOG.load(CATALOG.resolve(SCENARIO))
    stack = LocalStack("cons", console_root, load_config(None, scenario.stack.overrides()))
    stack.up()
    try:
        yield stack
    finally:
        stack.down(purge=True)


@pytest.fixture(scope="package")
def console(march_stack: LocalStack, console_root: Path) -> Iterator[ConsoleProcess]:
    with ConsoleProcess(march_stack.name, console_root) as proc:
        yield proc


@pytest.fixture
def login(console: ConsoleProcess) -> Callable[[str, str], Client]:
    def make(who: str, name: str = "") -> Client:
        return Client(console.info["url"], console.info[f"{who}_token"], name or who)

    return make


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: `scripts/bootstrap.sh chromium` installs it"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()
