"""Sampling pg_stat_activity over ONE persistent superuser connection that can never hang.

The connection is a psycopg2 asynchronous one, driven from the event loop (add_reader/add_writer)
with a deadline on every wait: a paused or overloaded server makes a sample fail with `timeout`,
the connection is dropped, and the next sample reconnects. It uses the private unix socket and a
superuser role, so it takes a reserved slot when Arcade has exhausted the rest.
"""

from __future__ import annotations

import asyncio
import time

import psycopg2
import psycopg2.extensions as ext

from lab.monitor.signals import DbSample
from lab.stack.base import PgTarget

QUERY = """
SELECT coalesce(a.state, 'starting'), count(*),
       count(*) FILTER (WHERE NOT coalesce(r.rolsuper, false)),
       current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
FROM pg_stat_activity AS a LEFT JOIN pg_roles AS r ON r.oid = a.usesysid
WHERE a.backend_type = 'client backend'
GROUP BY 1
"""


class PgSampler:
    """One connection, reconnected after any failure; every sample done within `timeout`."""

    def __init__(self, target: PgTarget, timeout: float = 1.0):
        self.target = target
        self.timeout = timeout
        self.conn: ext.connection | None = None

    async def sample(self) -> DbSample:
        t = time.time()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            if self.conn is None:
                self.conn = psycopg2.connect(self.target.dsn(self.timeout), async_=True)
                await self._wait(deadline)
            cur = self.conn.cursor()
            cur.execute(QUERY)
            await self._wait(deadline)
            rows = cur.fetchall()
        except asyncio.TimeoutError:
            self.close()
            return DbSample(t=t, error="timeout")
        except psycopg2.Error as exc:
            self.close()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return DbSample(t=t, error=first)
        by_state = {state: int(n) for state, n, _o, _m, _r in rows}
        ordinary = sum(int(o) for _s, _n, o, _m, _r in rows)
        max_conn = int(rows[0][3]) if rows else None
        reserved = int(rows[0][4]) if rows else None
        return DbSample(t=t, by_state=by_state, ordinary=ordinary, max_connections=max_conn, reserved=reserved)

    async def _wait(self, deadline: float) -> None:
        """Drive the async connection until its current operation is done, or time out."""
        conn = self.conn
        assert conn is not None
        loop = asyncio.get_running_loop()
        while True:
            state = conn.poll()
            if state == ext.POLL_OK:
                return
            fd = conn.fileno()
            ready = loop.create_future()

            def wake(fut: asyncio.Future[None] = ready) -> None:
                if not fut.done():
                    fut.set_result(None)

            writing = state == ext.POLL_WRITE
            (loop.add_writer if writing else loop.add_reader)(fd, wake)
            try:
                await asyncio.wait_for(ready, max(0.0, deadline - loop.time()))
            finally:
                (loop.remove_writer if writing else loop.remove_reader)(fd)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except psycopg2.Error:
                pass
            self.conn = None
