"""A tiny HTTP/1.1 client on asyncio streams for the probe and the scraper: one request at a time
on a connection the caller owns, every wait bounded by the caller's timeout.

The monitor sends a few requests a second, so clarity beats speed here; the load generator has
the fast client. Nothing is shared with Arcade: these are the monitor's own sockets.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection to host:port, opened on first use and reopened after a failure."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: Any = None) -> Response:
        """Send one request and read its answer; the caller bounds it with asyncio.wait_for."""
        try:
            return await self._request(method, path, body)
        except BaseException:
            self.close()  # a half-read answer leaves the connection unusable
            raise

    async def _request(self, method: str, path: str, body: Any) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUser-Agent: gameday-probe\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + payload)
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            data = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._chunked()
        else:
            data = await self._reader.read()
            self.close()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Response(status, data)

    async def _chunked(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self._reader.readexactly(size + 2)
            if size == 0:
                return b"".join(parts)
            parts.append(chunk[:-2])

    def close(self) -> None:
        if self._writer is not None:
            transport = self._writer.transport
            transport.abort()
        self._reader = self._writer = None


async def fetch(host: str, port: int, method: str, path: str, timeout: float, body: Any = None) -> Response:
    """One request on a fresh connection, bounded by `timeout` (asyncio.TimeoutError past it)."""
    conn = Connection(host, port)
    try:
        return await asyncio.wait_for(conn.request(method, path, body), timeout)
    finally:
        conn.close()
