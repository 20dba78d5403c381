"""Helpers for Arcade's tests: polling, watching an app's server processes, holding a table lock."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2.extensions
import pytest
from flask import Flask


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy and return it; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def app_backends(admin: psycopg2.extensions.connection, app: Flask) -> list[dict[str, Any]]:
    """The server processes of one app's connections: pid, state, wait_event_type."""
    with admin.cursor() as cur:
        cur.execute(
            "SELECT pid, state, wait_event_type FROM pg_stat_activity WHERE application_name = %s ORDER BY pid",
            (app.config["TEST_APP_NAME"],),
        )
        return [{"pid": r[0], "state": r[1], "wait_event_type": r[2]} for r in cur.fetchall()]


@contextlib.contextmanager
def holding_lock(conn: psycopg2.extensions.connection, table: str) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on `table` (parks every query on it) until the block ends."""
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute("ROLLBACK")
