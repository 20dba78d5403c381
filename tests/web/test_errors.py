"""SQLSTATE and message -> cause of a 503: the pure mapping, table-driven."""

from __future__ import annotations

import psycopg2
import pytest

from arcade.errors import Cause, cause_for, failure_from, sqlstate_for

TOO_MANY, TIMEOUT, UNAVAILABLE = Cause.TOO_MANY_CONNECTIONS, Cause.DB_TIMEOUT, Cause.DB_UNAVAILABLE


@pytest.mark.parametrize(
    ("sqlstate", "message", "connection_level", "cause"),
    [
        ("53300", "FATAL:  sorry, too many clients already", True, TOO_MANY),
        (None, "FATAL:  sorry, too many clients already", True, TOO_MANY),
        (None, "FATAL:  remaining connection slots are reserved for non-replication superuser connections",
         True, TOO_MANY),
        (None, 'FATAL:  too many connections for role "arcade"', True, TOO_MANY),
        ("57014", "canceling statement due to statement timeout", True, TIMEOUT),
        ("57014", "canceling statement due to user request", True, TIMEOUT),
        ("55P03", "canceling statement due to lock timeout", True, TIMEOUT),
        ("57P01", "terminating connection due to administrator command", True, UNAVAILABLE),
        ("57P02", "terminating connection due to crash of another server process", True, UNAVAILABLE),
        ("57P03", "the database system is starting up", True, UNAVAILABLE),
        (None, "FATAL:  terminating connection due to administrator command", True, UNAVAILABLE),
        (None, "FATAL:  the database system is shutting down", False, UNAVAILABLE),
        ("08006", "connection failure", True, UNAVAILABLE),
        ("25P03", "terminating connection due to idle-in-transaction timeout", True, UNAVAILABLE),
        ("53200", "out of memory", True, UNAVAILABLE),
        (None, 'connection to server at "127.0.0.1", port 1 failed: Connection refused', True, UNAVAILABLE),
        (None, "server closed the connection unexpectedly", True, UNAVAILABLE),
        (None, "connection already closed", True, UNAVAILABLE),
        # not the database's fault: bugs answered 500
        ("42P01", 'relation "nope" does not exist', False, None),
        ("23505", "duplicate key value violates unique constraint", False, None),
        ("22003", "integer out of range", False, None),
        (None, "something odd", False, None),
    ],
)
def test_cause_for(sqlstate: str | None, message: str, connection_level: bool, cause: Cause | None) -> None:
    assert cause_for(sqlstate, message, connection_level) is cause


@pytest.mark.parametrize(
    ("sqlstate", "message", "reported"),
    [
        ("57P01", "terminating connection due to administrator command", "57P01"),
        (None, "FATAL:  sorry, too many clients already", "53300"),
        (None, "FATAL:  remaining connection slots are reserved for non-replication superuser connections", "53300"),
        (None, "FATAL:  terminating connection due to administrator command", "57P01"),
        (None, "FATAL:  terminating connection because of crash of another server process", "57P02"),
        (None, "FATAL:  the database system is shutting down", "57P03"),
        (None, "FATAL:  the database system is starting up", "57P03"),
        (None, "Connection refused", None),
    ],
)
def test_sqlstate_reported(sqlstate: str | None, message: str, reported: str | None) -> None:
    assert sqlstate_for(sqlstate, message) == reported


def test_failure_from_psycopg2_errors_keeps_the_first_line() -> None:
    refused = psycopg2.OperationalError(
        'connection to server at "127.0.0.1", port 1 failed: Connection refused\n\tIs the server running?\n'
    )
    failure = failure_from(refused)
    assert failure is not None
    assert (failure.cause, failure.sqlstate) == (UNAVAILABLE, None)
    assert failure.detail == 'connection to server at "127.0.0.1", port 1 failed: Connection refused'
    assert failure_from(psycopg2.ProgrammingError("syntax error at or near")) is None
