"""Database access for requests: two access modes, a bounded pool, and a per-request deadline.

    request ─▶ begin_request (deadline = now + REQUEST_TIMEOUT_S)
       view ─▶ fetch_all / fetch_one / transaction ─▶ connection()   (acquired on first use)
                 pool:         wait ≤ POOL_TIMEOUT_S for one of POOL_SIZE slots, reuse idle
                 per-request:  connect now
       every socket wait ─▶ wait_with_deadline (psycopg2 wait callback, select.poll + deadline)
    end_request ─▶ release: keep a healthy pooled connection, close anything else

Connections run in autocommit: reads take one round trip; `transaction()` wraps writes in
BEGIN ... COMMIT. A connection that raised anything is closed, never reused.
"""

from __future__ import annotations

import queue
import select
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
from flask import current_app, g
from psycopg2.extensions import connection as Connection
from psycopg2.extras import RealDictCursor

from arcade import metrics
from arcade.config import AccessMode, Settings
from arcade.errors import Cause, DbFailure, DeadlineExceeded, failure_from

Row = dict[str, Any]

_local = threading.local()  # .deadline: time.monotonic() value or None, per thread


def wait_with_deadline(conn: Connection) -> None:
    """psycopg2 wait callback: poll the connection until ready or the thread's deadline passes.

    Outside a deadline, a connection attempt still honours its DSN's connect_timeout (libpq
    enforces it only for blocking connects, and a wait callback makes every connect non-blocking).
    """
    deadline: float | None = getattr(_local, "deadline", None)
    timeout_error: Exception = DeadlineExceeded("no answer from the database before the request deadline")
    if deadline is None and conn.status == psycopg2.extensions.STATUS_SETUP:
        deadline = _libpq_connect_deadline(conn)
        timeout_error = psycopg2.OperationalError("timeout expired")
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        if state == psycopg2.extensions.POLL_READ:
            events = select.POLLIN
        elif state == psycopg2.extensions.POLL_WRITE:
            events = select.POLLOUT
        else:
            raise psycopg2.OperationalError(f"unexpected poll state {state}")
        timeout_ms = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timeout_error
            timeout_ms = max(1, int(remaining * 1000))
        poller = select.poll()
        poller.register(conn.fileno(), events | select.POLLERR)
        poller.poll(timeout_ms)  # on timeout, the next round raises timeout_error


def _libpq_connect_deadline(conn: Connection) -> float | None:
    """When a connect started now must give up per its DSN's connect_timeout (as libpq: min 2 s)."""
    try:
        seconds = float(psycopg2.extensions.parse_dsn(conn.dsn).get("connect_timeout", 0))
    except (psycopg2.ProgrammingError, ValueError):
        return None
    return time.monotonic() + max(2.0, seconds) if seconds > 0 else None


def install_wait_callback() -> None:
    """Route every psycopg2 wait of this process through `wait_with_deadline` (idempotent)."""
    if psycopg2.extensions.get_wait_callback() is not wait_with_deadline:
        psycopg2.extensions.set_wait_callback(wait_with_deadline)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Bound all database waits of this thread inside the block (nested: the earliest wins)."""
    previous: float | None = getattr(_local, "deadline", None)
    at = time.monotonic() + seconds
    _local.deadline = at if previous is None else min(previous, at)
    try:
        yield
    finally:
        _local.deadline = previous


def remaining_s() -> float | None:
    """Seconds left before this thread's deadline, or None without one."""
    at: float | None = getattr(_local, "deadline", None)
    return None if at is None else at - time.monotonic()


class Pool:
    """At most `size` connections per process; a caller waits up to a timeout for a free slot.

    psycopg2.pool opens connections while holding its lock, so one stalled connect would stall
    every thread returning a connection; here connecting happens outside any lock.
    """

    def __init__(self, connect: Callable[[], Connection], size: int) -> None:
        self._connect = connect
        self._size = size
        self._slots = threading.BoundedSemaphore(size)
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue()
        self._closed = False

    def get(self, timeout_s: float) -> Connection:
        """An idle connection the server has not hung up on, or a new one; DbFailure if none frees up."""
        metrics.DB_WAITING.inc()
        try:
            got = self._slots.acquire(timeout=max(0.0, timeout_s))
        finally:
            metrics.DB_WAITING.dec()
        if not got:
            raise DbFailure(
                Cause.DB_TIMEOUT,
                f"no free database connection within {timeout_s:.1f} s "
                f"(pool of {self._size} per worker)",
            )
        try:
            while True:
                try:
                    conn = self._idle.get_nowait()
                except queue.Empty:
                    return self._connect()
                if not conn.closed and not _hung_up(conn):
                    return conn
                _close_quietly(conn)
        except BaseException:
            self._slots.release()
            raise

    def put(self, conn: Connection, broken: bool) -> None:
        """Return a connection: kept if healthy and idle, closed otherwise."""
        try:
            healthy = (
                not broken
                and not self._closed
                and not conn.closed
                and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
            )
            if healthy:
                self._idle.put(conn)
            else:
                _close_quietly(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close the idle connections; ones still in use are closed when returned."""
        self._closed = True
        while True:
            try:
                _close_quietly(self._idle.get_nowait())
            except queue.Empty:
                return


class Database:
    """Hands out connections in the configured access mode, each within the deadline."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        params = psycopg2.extensions.parse_dsn(settings.dsn)
        options = params.get("options", "")
        params["options"] = f"{options} -c statement_timeout={settings.statement_timeout_ms}".strip()
        params.setdefault("application_name", "arcade")
        self._params = params
        self._pool = Pool(self._connect, settings.pool_size) if settings.access_mode is AccessMode.POOL else None

    def _connect(self) -> Connection:
        """Open a connection within CONNECT_TIMEOUT_S (and the request deadline)."""
        timeout = self.settings.connect_timeout_s
        try:
            with deadline(timeout):
                conn: Connection = psycopg2.connect(**self._params)
        except DeadlineExceeded:
            raise DeadlineExceeded(
                f"the database did not complete the connection within {timeout:.1f} s "
                "(or the request deadline)"
            ) from None
        except psycopg2.Error as exc:
            failure = failure_from(exc)
            if failure is None:
                raise
            failure.detail = f"cannot connect to the database: {failure.detail}"
            raise failure from exc
        conn.autocommit = True
        return conn

    def acquire(self) -> Connection:
        """A connection for one request: from the pool, or a new one."""
        if self._pool is None:
            conn = self._connect()
        else:
            left = remaining_s()
            wait = self.settings.pool_timeout_s if left is None else min(self.settings.pool_timeout_s, left)
            conn = self._pool.get(wait)
        metrics.DB_IN_USE.inc()
        return conn

    def release(self, conn: Connection, broken: bool) -> None:
        """Give a request's connection back: pooled if healthy, else closed."""
        metrics.DB_IN_USE.dec()
        if self._pool is None:
            _close_quietly(conn)
        else:
            self._pool.put(conn, broken)

    def close(self) -> None:
        """Close pooled connections (tests and shutdown)."""
        if self._pool is not None:
            self._pool.close()


def _hung_up(conn: Connection) -> bool:
    """Has the server spoken on an idle connection? Then it said goodbye (e.g. 57P01 at shutdown)."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _close_quietly(conn: Connection) -> None:
    """Close a connection, ignoring errors of an already broken one."""
    try:
        conn.close()
    except psycopg2.Error:
        pass


# --- request scope (used by the app factory and the views) ---------------------------------


def _database() -> Database:
    """The current app's Database."""
    db: Database = current_app.extensions["arcade.db"]
    return db


def begin_request() -> None:
    """Start the request's deadline."""
    _local.deadline = time.monotonic() + _database().settings.request_timeout_s


def end_request() -> None:
    """Release the request's connection (if it took one) and clear the deadline."""
    conn = g.pop("arcade_conn", None)
    broken = bool(g.pop("arcade_conn_broken", False))
    _local.deadline = None
    if conn is not None:
        _database().release(conn, broken)


def connection() -> Connection:
    """This request's connection, acquired on first use."""
    conn: Connection | None = g.get("arcade_conn")
    if conn is None:
        conn = _database().acquire()
        g.arcade_conn = conn
    return conn


@contextmanager
def _translated() -> Iterator[None]:
    """Mark the connection broken on any database error and raise it as a DbFailure."""
    try:
        yield
    except DbFailure:
        g.arcade_conn_broken = True
        raise
    except psycopg2.Error as exc:
        g.arcade_conn_broken = True
        first = _earliest_db_error(exc)
        if isinstance(first, DbFailure):
            raise first from exc
        failure = failure_from(first) if isinstance(first, psycopg2.Error) else None
        if failure is None:
            raise  # not the database's fault: a bug, answered 500
        raise failure from exc


def _earliest_db_error(exc: BaseException) -> BaseException:
    """The first database error in the chain (e.g. not the failed ROLLBACK that followed it)."""
    found = exc
    context = exc.__context__
    while isinstance(context, (psycopg2.Error, DbFailure)):
        found = context
        context = context.__context__
    return found


def fetch_all(sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[Row]:
    """Run one query and return its rows as dicts."""
    with _translated():
        with connection().cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(sql, params)
            return [dict(row) for row in cur.fetchall()]


def fetch_one(sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Row | None:
    """Run one query and return its first row, or None."""
    rows = fetch_all(sql, params)
    return rows[0] if rows else None


@contextmanager
def transaction() -> Iterator[RealDictCursor]:
    """BEGIN ... COMMIT around the block; ROLLBACK if it raises (any exception)."""
    with _translated():
        conn = connection()
        with conn:
            with conn.cursor(cursor_factory=RealDictCursor) as cur:
                yield cur
