"""Compose tests: real containers on a real Docker engine, from images built on this machine
(`docker_engine` and `compose_images` are in tests/conftest.py: the stack conformance suite uses them too).

    compose_stack    starts ComposeStacks with given settings; down (volumes too) at teardown

The tests that use the engine (`docker_engine`) are the only ones that may be skipped, and only
when no Docker engine answers (`docker info` fails): the header says so in one line. Where an
engine answers they run. The pure tests here run everywhere.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.stack.engine import engine_answers

DOCKER = engine_answers()
NO_DOCKER = "no Docker engine answers (`docker info` fails): the compose tests are not run"
HERE = Path(__file__).parent


def pytest_report_header(config: pytest.Config) -> str:
    if DOCKER:
        return "compose tests: a Docker engine answers; they run against it"
    return f"compose tests: {NO_DOCKER}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that use the engine (the `docker_engine` fixture, directly or not) are the compose
    tests; the pure ones beside them run everywhere."""
    for item in items:
        if HERE in Path(str(item.fspath)).parents and "docker_engine" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.compose)
            item.add_marker(pytest.mark.timeout(900))  # the first one may build the images (minutes)
            if not DOCKER:
                item.add_marker(pytest.mark.skip(reason=NO_DOCKER))


@pytest.fixture(scope="module")
def compose_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gdc")


@pytest.fixture(scope="module")
def compose_stack(compose_images, compose_root) -> Iterator[Callable[..., object]]:  # type: ignore[no-untyped-def]
    """Start compose stacks (`make(*overrides, name=...)`); every one is downed at teardown."""
    from lab.stack.compose import ComposeStack
    from lab.stack.config import load_config

    started: list[ComposeStack] = []

    def make(*overrides: str, name: str | None = None) -> ComposeStack:
        stack = ComposeStack(name or f"t{uuid.uuid4().hex[:8]}", compose_root, load_config(None, list(overrides)))
        started.append(stack)
        stack.up()
        return stack

    yield make
    for stack in started:
        try:
            from lab.faults import engine as faults

            if stack.is_up():
                faults.revert_all(stack)
        finally:
            stack.down(purge=True)
