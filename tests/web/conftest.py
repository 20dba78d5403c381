"""Fixtures for Arcade's tests: apps on the session's seeded PostgreSQL, real HTTP, throwaway clusters.

    make_app      builds Arcade apps (pool mode unless told) with a unique application_name each
    client        a Flask test client of a pool-mode app on the session database
    admin         a superuser connection to the session database (autocommit)
    serve         runs an app on a real threaded HTTP server; returns its base URL
    make_pg       starts a private cluster from the seeded template (e.g. low max_connections)
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg2.extensions
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from arcade import create_app


def _root_conftest(config: pytest.Config) -> ModuleType:
    """The tests/conftest.py module, as pytest loaded it (for its `running_pg` helper)."""
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        plugin_file = getattr(plugin, "__file__", None)
        if plugin_file and Path(plugin_file).resolve() == path:
            return plugin  # type: ignore[no-any-return]
    raise RuntimeError(f"{path} is not loaded; Arcade's tests need its PostgreSQL fixtures")


@pytest.fixture(scope="module")
def make_pg(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, pg_template: Path
) -> Iterator[Callable[..., Any]]:
    """Start private clusters copied from the seeded template; stopped when the module ends."""
    running_pg = _root_conftest(request.config).running_pg
    with contextlib.ExitStack() as stack:

        def make(**settings: str) -> Any:
            return stack.enter_context(running_pg(tmp_path_factory.mktemp("arcade-pg"), pg_template, **settings))

        yield make


@pytest.fixture
def make_app(pg: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Flask]]:
    """Build apps on the session database (or `dsn`); their pools are closed at teardown."""
    for name in list(os.environ):
        if name.startswith("ARCADE_"):
            monkeypatch.delenv(name)
    apps: list[Flask] = []

    def make(dsn: str | None = None, **config: Any) -> Flask:
        app_name = f"arcade-test-{uuid.uuid4().hex[:8]}"
        app = create_app({"dsn": f"{dsn or pg.app_dsn} application_name={app_name}", **config})
        app.config["TEST_APP_NAME"] = app_name
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["arcade.db"].close()


@pytest.fixture
def client(make_app: Callable[..., Flask]) -> FlaskClient:
    """A test client of a pool-mode app on the session database."""
    return make_app().test_client()


@pytest.fixture
def admin(pg: Any) -> Iterator[psycopg2.extensions.connection]:
    """A superuser connection to the session database (autocommit)."""
    conn = pg.admin()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve apps over real HTTP (threaded werkzeug servers); stopped at teardown."""
    servers = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=5)
