"""The control interface: a small HTTP/1.0-style JSON server on the generator's own event loop.

Each connection carries one request (`Connection: close`); bodies are JSON; errors are
`{"error": "<one line>"}` with 400 (bad input, nothing changed), 404 or 405.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from loadgen.body import BodyError, parse_body
from loadgen.generator import Generator
from loadgen.metrics import exposition
from loadgen.mix import MixError, parse_mix
from loadgen.shapes import ShapeError, parse_shape
from loadgen.stats import Histogram, latency_ms

MAX_BODY = 64 * 1024
DRAIN_MAX = 16 * 1024 * 1024  # bytes of an oversized body read and dropped before the 413
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 413: "Payload Too Large"}


class BadInput(Exception):
    """A control request's body or query is wrong (the message is one line)."""


def state(gen: Generator) -> dict[str, Any]:
    """What /state answers: target, shape, mix, the rate right now."""
    now = time.monotonic()
    return {
        "target": gen.target.url,
        **gen.shape.to_dict(),
        "current_rate": round(gen.current_rate(now), 3),
        "since": round(gen.shape_start + gen.wall_offset, 3),
        "elapsed_s": round(now - gen.shape_start, 3),
        "mix": gen.mix.as_dict(),
        "timeout_s": gen.timeout,
    }


def set_rate(gen: Generator, body: Any) -> dict[str, Any]:
    """Validate everything first, then switch: bad input changes nothing."""
    if not isinstance(body, dict):
        raise BadInput("expected a JSON object, e.g. {\"rate\": 100, \"shape\": \"constant\"}")
    fields = dict(body)
    mix_spec = fields.pop("mix", None)
    try:
        shape = parse_shape(fields)
        mix = parse_mix(mix_spec) if mix_spec is not None else None
    except (ShapeError, MixError) as exc:
        raise BadInput(str(exc)) from None
    gen.set_shape(shape, mix)
    print(f"loadgen: now {shape.to_dict()}" + (f", mix {mix.as_dict()}" if mix else ""), flush=True)
    return state(gen)


def stats(gen: Generator, query: dict[str, list[str]]) -> dict[str, Any]:
    """Whole seconds (the last `seconds`, default 10, or all after `since`) and totals."""
    now = time.monotonic() + gen.wall_offset
    try:
        seconds = int(query.get("seconds", ["10"])[0])
        since = float(query["since"][0]) if "since" in query else None
    except ValueError:
        raise BadInput("seconds: expected a whole number; since: expected a Unix time") from None
    if not 1 <= seconds <= 300:
        raise BadInput(f"seconds: {seconds} is out of range; valid: 1-300")
    rows = gen.stats.last(300 if since is not None else seconds, now)
    if since is not None:
        rows = [s for s in rows if s.t > since]
    total = Histogram()
    total.merge(gen.stats.latency_total)
    by_route: dict[str, dict[str, int]] = {}
    for (route, outcome), n in sorted(gen.stats.totals.items()):
        by_route.setdefault(route, {})[outcome] = n
    pool = gen.pool
    return {
        "now": round(now, 3),
        "target_rate": round(gen.current_rate(), 3),
        "in_flight": pool.in_flight if pool else 0,
        "connections": pool.open if pool else 0,
        "seconds": [s.summary() for s in rows],
        "totals": {"issued": gen.stats.issued_total, "counts": by_route, "latency_ms": latency_ms(total)},
    }


def route(gen: Generator, method: str, path: str, query: dict[str, list[str]], body: bytes) -> tuple[int, str, bytes]:
    """Dispatch one control request: (status, content type, body)."""
    allowed = {"/healthz": "GET", "/state": "GET", "/stats": "GET", "/metrics": "GET", "/rate": "POST"}
    if path not in allowed:
        return _json(404, {"error": f"no such endpoint {path!r}; valid: {', '.join(sorted(allowed))}"})
    if method != allowed[path]:
        return _json(405, {"error": f"{path} takes {allowed[path]}"})
    try:
        if path == "/healthz":
            return _json(200, {"status": "ok"})
        if path == "/state":
            return _json(200, state(gen))
        if path == "/stats":
            return _json(200, stats(gen, query))
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", exposition(gen)
        try:
            parsed = parse_body(body)
        except BodyError as exc:
            raise BadInput(str(exc)) from None
        return _json(200, set_rate(gen, parsed))
    except BadInput as exc:
        return _json(400, {"error": str(exc)})


def _json(status: int, data: Any) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(data).encode() + b"\n"


async def serve(gen: Generator, host: str, port: int) -> asyncio.Server:
    """Start the control server; the caller closes it."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, ctype, payload = await asyncio.wait_for(_read_and_route(gen, reader), 5.0)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError, UnicodeError):
            status, ctype, payload = _json(400, {"error": "malformed or incomplete HTTP request"})
        try:
            writer.write(
                f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload
            )
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, reuse_address=True)


async def _read_and_route(gen: Generator, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length > MAX_BODY:
        # read (and drop) a body of reasonable size first, so the client finishes sending and reads
        # the answer instead of a broken pipe; a larger one is answered and cut off
        left = length if length <= DRAIN_MAX else 0
        while left > 0:
            chunk = await reader.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)
        return _json(413, {"error": f"body: larger than {MAX_BODY} bytes"})
    body = await reader.readexactly(length) if length else b""
    parts = urlsplit(target)
    return route(gen, method.upper(), parts.path, parse_qs(parts.query), body)
