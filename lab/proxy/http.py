"""A small HTTP/1.1 server for the control API, written for byte-exact Toxiproxy answers.

Why not aiohttp: Toxiproxy's clients see Go's ``net/http`` + gorilla/mux behaviour, and some
assert it: the unknown-path body ``404 page not found\\n`` with no request-id header, an empty
405 for a known path with another method, JSON error bodies sent as ``text/plain;
charset=utf-8`` with ``X-Content-Type-Options: nosniff``, no Content-Length on a 204, HEAD not
mapped to GET. A framework would have to be argued out of each of those; a ~150-line parser
over asyncio streams (keep-alive, Content-Length and chunked bodies, ``Expect:
100-continue``, Go's 15 s read and 60 s idle timeouts) says exactly what goes on the wire.
The API is small and never on the data path, so speed here is not a concern.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import Awaitable, Callable
from urllib.parse import unquote, urlsplit

from lab.core.safe_input import BODY

log = logging.getLogger("lab.proxy.http")

READ_TIMEOUT = 15.0
IDLE_TIMEOUT = 60.0
MAX_HEADER_BYTES = 1 << 20
MAX_BODY_BYTES = BODY.max_bytes  # an API body: a few proxies or toxics, never megabytes


@dataclass
class Request:
    method: str
    path: str  # percent-decoded, as gorilla/mux matches it
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)


Handler = Callable[[Request], Awaitable[Response]]


class BadRequest(Exception):
    pass


async def _read_line(reader: asyncio.StreamReader, budget: list[int]) -> bytes:
    line = await reader.readline()
    budget[0] -= len(line)
    if budget[0] < 0:
        raise BadRequest("header too large")
    if not line:
        raise EOFError
    return line.rstrip(b"\r\n")


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    budget = [MAX_HEADER_BYTES]
    while True:
        size_line = await _read_line(reader, budget)
        try:
            size = int(size_line.split(b";")[0].strip(), 16)
        except ValueError:
            raise BadRequest("bad chunk size") from None
        if size == 0:
            while await _read_line(reader, budget):  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise BadRequest(f"body larger than the limit of {MAX_BODY_BYTES >> 20} MiB")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[Request, bool]:
    """Read one request; returns it and whether the connection may be kept open afterwards."""
    budget = [MAX_HEADER_BYTES]
    line = await asyncio.wait_for(_read_line(reader, budget), IDLE_TIMEOUT)
    while not line:  # tolerate blank lines between requests, as Go does
        line = await asyncio.wait_for(_read_line(reader, budget), IDLE_TIMEOUT)

    async def rest() -> tuple[Request, bool]:
        parts = line.decode("latin-1").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest("malformed request line")
        method, target, version = parts
        headers: dict[str, str] = {}
        while True:
            h = await _read_line(reader, budget)
            if not h:
                break
            name, sep, value = h.decode("latin-1").partition(":")
            if not sep or not name or name != name.strip():
                raise BadRequest("malformed header")
            key = name.lower()
            headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
        conn_hdr = headers.get("connection", "").lower()
        keep = ("close" not in conn_hdr) if version == "HTTP/1.1" else ("keep-alive" in conn_hdr)
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = await _read_chunked(reader)
        else:
            length_text = headers.get("content-length", "0") or "0"
            if not length_text.isdigit():
                raise BadRequest("bad content-length")
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                raise BadRequest(f"body larger than the limit of {MAX_BODY_BYTES >> 20} MiB")
            body = await reader.readexactly(length) if length else b""
        path = urlsplit(target).path if not target.startswith("/") else target.split("?", 1)[0]
        return Request(method, unquote(path), headers, body), keep

    return await asyncio.wait_for(rest(), READ_TIMEOUT)


def encode_response(resp: Response, keep: bool) -> bytes:
    reason = HTTPStatus(resp.status).phrase if resp.status in HTTPStatus._value2member_map_ else ""
    lines = [f"HTTP/1.1 {resp.status} {reason}"]
    lines += [f"{k}: {v}" for k, v in resp.headers]
    lines.append(f"Date: {formatdate(usegmt=True)}")
    if resp.status != 204 and resp.status >= 200:
        lines.append(f"Content-Length: {len(resp.body)}")
    if not keep:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + resp.body


class HttpServer:
    """Serves ``handler`` on host:port until ``close``; every client connection is tracked."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> tuple[str, int]:
        self._server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        sock = self._server.sockets[0]
        h, p = sock.getsockname()[:2]
        return h, p

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for w in list(self._clients):
            w.close()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            while True:
                try:
                    request, keep = await read_request(reader, writer)
                except (EOFError, asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                    return
                except (BadRequest, asyncio.LimitOverrunError, ValueError) as exc:
                    said = str(exc) if isinstance(exc, BadRequest) else "malformed request"
                    body = json.dumps({"error": f"bad request: {said}", "status": 400}).encode() + b"\n"
                    writer.write(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
                        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
                    )
                    return
                try:
                    response = await self.handler(request)
                except Exception:
                    log.exception("handler failed for %s %s", request.method, request.path)
                    response = Response(500, b"internal error\n", [("Content-Type", "text/plain; charset=utf-8")])
                writer.write(encode_response(response, keep))
                await writer.drain()
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            self._clients.discard(writer)
            writer.close()
