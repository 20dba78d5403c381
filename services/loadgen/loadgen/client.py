"""A lean HTTP/1.1 keep-alive client on asyncio Protocols, for open-loop load.

Why not aiohttp or httpx: per request they build a request object, run header parsing, cookie
jars and task machinery; an open loop on one core tops out near 3,600 req/s that way. Here a
request is pre-built bytes written to a pooled connection, and a response is parsed only as far
as its status line and its length (Content-Length, chunked, or until close). No per-request task,
no per-request timer:

    submit(req) ──▶ idle connection? ──yes──▶ write bytes ──▶ data_received ──▶ done(status)
                         │ no                                       │
                         ▼                                          ▼
                    pending (FIFO) ◀── a new connection takes the oldest; a finished one the next
    sweep() every 100 ms: requests older than the timeout (from their *scheduled* start) end
    as `timeout`; their connection is aborted so a stalled server cannot hold the schedule.

A request that found a reused keep-alive connection closed under it (no byte answered) is
retried once on another connection, as browsers do.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from loadgen.stats import ERROR, TIMEOUT

Done = Callable[["Request", str, float, bytes], None]  # (request, outcome, end time, body if wanted)


class Request:
    """One scheduled request: its route label, raw bytes and scheduled (monotonic) start."""

    __slots__ = ("route", "payload", "scheduled", "retried", "want_body")

    def __init__(self, route: str, payload: bytes, scheduled: float, want_body: bool = False):
        self.route = route
        self.payload = payload
        self.scheduled = scheduled
        self.retried = False
        self.want_body = want_body


class Conn(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    __slots__ = ("pool", "transport", "req", "buf", "need", "status", "reused", "got", "closing", "lost")

    def __init__(self, pool: Pool):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.req: Request | None = None
        self.buf = b""
        self.need = 0  # total bytes of the response: >0 known, -1 chunked, -2 until close, 0 headers pending
        self.status = ""
        self.reused = False
        self.got = False
        self.closing = False
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, req: Request) -> None:
        self.req = req
        self.buf = b""
        self.need = 0
        self.got = False
        assert self.transport is not None
        self.transport.write(req.payload)

    def data_received(self, data: bytes) -> None:
        if self.req is None:
            return
        self.got = True
        buf = self.buf + data if self.buf else data
        need = self.need
        if need == 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            head = buf[:end]
            self.status = buf[9:12].decode("ascii", "replace")
            at = head.find(b"Content-Length:")
            if at < 0:
                lower = head.lower()
                at = lower.find(b"content-length:")
                if at < 0:
                    need = -1 if b"chunked" in lower else -2
                if b"connection: close" in lower:
                    self.closing = True
            elif b"onnection: close" in head or b"onnection: Close" in head:
                self.closing = True
            if at >= 0:
                stop = head.find(b"\r", at)
                need = end + 4 + int(head[at + 15:stop if stop > 0 else len(head)])
            self.need = need
        if need > 0:
            if len(buf) < need:
                self.buf = buf
                return
            self.buf = b""
            self.pool.finished(self, self.status, buf[:need])
        elif need == -1:
            if not buf.endswith(b"0\r\n\r\n"):
                self.buf = buf
                return
            self.buf = b""
            self.pool.finished(self, self.status, buf)
        else:
            self.buf = buf  # read until close

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.pool.lost(self)


class Pool:
    """Connections to one host:port, at most `max_conns`, with the pending queue and timeouts."""

    def __init__(self, host: str, port: int, done: Done, timeout: float, max_conns: int = 1000):
        self.host, self.port = host, port
        self.done = done
        self.timeout = timeout
        self.max_conns = max_conns
        self.idle: list[Conn] = []
        self.busy: set[Conn] = set()
        self.pending: deque[Request] = deque()
        self.open = 0  # connected, idle or busy
        self.connecting = 0
        self.loop = asyncio.get_running_loop()
        self._closed = False

    @property
    def in_flight(self) -> int:
        return len(self.busy) + len(self.pending)

    def submit(self, req: Request) -> None:
        """Send now on an idle connection, or queue and open a connection if allowed."""
        if self.idle:
            conn = self.idle.pop()
            conn.reused = True
            self.busy.add(conn)
            conn.send(req)
            return
        self.pending.append(req)
        if self.connecting < len(self.pending) and self.open + self.connecting < self.max_conns:
            self.connecting += 1
            self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: Conn(self), self.host, self.port), self.timeout
            )
        except (OSError, asyncio.TimeoutError):
            self.connecting -= 1
            if self.pending and not self._closed:
                req = self.pending.popleft()
                self.done(req, ERROR, time.monotonic(), b"")
            return
        self.connecting -= 1
        if self._closed:
            assert conn.transport is not None
            conn.transport.abort()
            return
        self.open += 1
        self._next(conn)

    def _next(self, conn: Conn) -> None:
        """Give a free connection the oldest pending request, or park it idle."""
        if self.pending:
            self.busy.add(conn)
            conn.send(self.pending.popleft())
        else:
            conn.req = None
            self.idle.append(conn)

    def finished(self, conn: Conn, status: str, body: bytes) -> None:
        req = conn.req
        conn.req = None
        self.busy.discard(conn)
        assert req is not None
        self.done(req, status, time.monotonic(), body if req.want_body else b"")
        if conn.closing:
            assert conn.transport is not None
            conn.transport.close()
            return
        conn.reused = True
        self._next(conn)

    def lost(self, conn: Conn) -> None:
        self.open -= 1
        req = conn.req
        conn.req = None
        if req is None:
            try:
                self.idle.remove(conn)
            except ValueError:
                pass
            return
        self.busy.discard(conn)
        if self._closed:
            return
        if conn.need == -2 and conn.got:
            self.done(req, conn.status, time.monotonic(), conn.buf if req.want_body else b"")
        elif conn.reused and not conn.got and not req.retried:
            req.retried = True
            self.pending.appendleft(req)
            if self.idle:
                self._next(self.idle.pop())
            elif self.open + self.connecting < self.max_conns:
                self.connecting += 1
                self.loop.create_task(self._connect())
        else:
            self.done(req, ERROR, time.monotonic(), b"")

    def sweep(self, now: float) -> None:
        """End every request older than the timeout (from its scheduled start) as `timeout`."""
        limit = now - self.timeout
        pending = self.pending
        while pending and pending[0].scheduled <= limit:
            self.done(pending.popleft(), TIMEOUT, now, b"")
        late = [c for c in self.busy if c.req is not None and c.req.scheduled <= limit]
        for conn in late:
            req = conn.req
            conn.req = None
            self.busy.discard(conn)
            assert req is not None and conn.transport is not None
            self.done(req, TIMEOUT, now, b"")
            conn.transport.abort()

    def close(self) -> None:
        """Abort every connection; pending requests are dropped uncounted."""
        self._closed = True
        self.pending.clear()
        for conn in [*self.idle, *self.busy]:
            if conn.transport is not None:
                conn.transport.abort()
        self.idle.clear()
        self.busy.clear()
