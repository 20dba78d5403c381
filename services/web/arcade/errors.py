"""What a database failure means to a client: SQLSTATE and message -> cause of a 503.

    psycopg2.Error ──failure_from()──▶ DbFailure(cause, detail, sqlstate) ──handler──▶ 503 JSON
    (or, when it is not the database's fault, None: the error is a bug and becomes a 500)

Causes:
    too_many_connections  53300, incl. "remaining connection slots are reserved"
    db_timeout            57014 query_canceled, 55P03 lock_not_available, the request deadline,
                          the wait for a free pooled connection
    db_unavailable        refused, reset, 57P01/57P02/57P03, class 08, any other connection failure

`cause_for` is pure so the table can be tested without a server.
"""

from __future__ import annotations

import enum

import psycopg2


class Cause(enum.Enum):
    """Why the database could not serve a request (the `error` of a 503 body)."""

    TOO_MANY_CONNECTIONS = "too_many_connections"
    DB_TIMEOUT = "db_timeout"
    DB_UNAVAILABLE = "db_unavailable"


class DbFailure(Exception):
    """The database could not serve this request; answered as a 503."""

    def __init__(self, cause: Cause, detail: str, sqlstate: str | None = None) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.sqlstate = sqlstate


class DeadlineExceeded(DbFailure):
    """The request's client-side deadline passed while waiting on the database."""

    def __init__(self, detail: str) -> None:
        super().__init__(Cause.DB_TIMEOUT, detail, None)


# Errors at connection startup, and FATALs the server sends before closing a connection, reach
# psycopg2 without a SQLSTATE: only the server's (English) message tells what happened.
_MESSAGES: tuple[tuple[str, Cause, str], ...] = (
    ("too many clients already", Cause.TOO_MANY_CONNECTIONS, "53300"),
    ("remaining connection slots are reserved", Cause.TOO_MANY_CONNECTIONS, "53300"),
    ("too many connections for", Cause.TOO_MANY_CONNECTIONS, "53300"),  # role or database limit
    ("canceling statement due to", Cause.DB_TIMEOUT, "57014"),
    ("terminating connection due to administrator command", Cause.DB_UNAVAILABLE, "57P01"),
    ("terminating connection because of crash of another server process", Cause.DB_UNAVAILABLE, "57P02"),
    ("the database system is starting up", Cause.DB_UNAVAILABLE, "57P03"),
    ("the database system is shutting down", Cause.DB_UNAVAILABLE, "57P03"),
    ("the database system is in recovery mode", Cause.DB_UNAVAILABLE, "57P03"),
    ("the database system is not yet accepting connections", Cause.DB_UNAVAILABLE, "57P03"),
    ("the database system is not accepting connections", Cause.DB_UNAVAILABLE, "57P03"),
    ("terminating connection due to idle-in-transaction timeout", Cause.DB_UNAVAILABLE, "25P03"),
)


def cause_for(sqlstate: str | None, message: str, connection_level: bool) -> Cause | None:
    """Map a SQLSTATE (or, without one, the message) to a cause; None means an app bug."""
    if sqlstate:
        if sqlstate == "53300":
            return Cause.TOO_MANY_CONNECTIONS
        if sqlstate in ("57014", "55P03"):
            return Cause.DB_TIMEOUT
        if sqlstate.startswith(("08", "57P", "53")) or sqlstate in ("25P03", "58000", "58030"):
            return Cause.DB_UNAVAILABLE
    lowered = message.lower()
    for fragment, cause, _ in _MESSAGES:
        if fragment in lowered:
            return cause
    return Cause.DB_UNAVAILABLE if connection_level else None


def sqlstate_for(sqlstate: str | None, message: str) -> str | None:
    """The SQLSTATE to report: the server's, else the one its message implies, else None."""
    if sqlstate:
        return sqlstate
    lowered = message.lower()
    return next((code for fragment, _, code in _MESSAGES if fragment in lowered), None)


def failure_from(exc: psycopg2.Error) -> DbFailure | None:
    """Classify a psycopg2 error; None when the database is not to blame (a bug: 500)."""
    message = str(exc).strip() or type(exc).__name__
    connection_level = isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))
    cause = cause_for(exc.pgcode, message, connection_level)
    if cause is None:
        return None
    first_line = message.splitlines()[0]
    return DbFailure(cause, first_line, sqlstate_for(exc.pgcode, message))


class ApiError(Exception):
    """A client-facing error other than a database failure: status, error code, detail."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
