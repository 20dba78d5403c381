"""The lean HTTP/1.1 client over real sockets: answers split across packets, chunked bodies,
`Connection: close`, bodies until close, keep-alive reuse, a server that closes idle
connections, and timeouts counted from the scheduled start."""

from __future__ import annotations

import asyncio
import time

import pytest

from loadgen.client import Pool, Request

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

ANSWERS = {
    "plain": [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"],
    "split": [b"HTTP/1.1 201 Cre", b"ated\r\nconte", b"nt-length: 3\r\n", b"\r\nab", b"c"],
    "chunked": [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", b"0\r\n\r\n"],
    "close": [b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"],
    "until-close": [b"HTTP/1.0 200 OK\r\n\r\nbody until the end"],
}


async def _serve(kind: str, accepted: list[int], hang: bool = False) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                if hang:
                    await asyncio.sleep(30)
                for part in ANSWERS[kind]:
                    writer.write(part)
                    await writer.drain()
                    await asyncio.sleep(0.005)
                if kind in ("close", "until-close"):
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def _run(kind: str, n: int, timeout: float = 2.0, hang: bool = False) -> tuple[list[tuple[str, str]], int]:
    accepted: list[int] = []
    server = await _serve(kind, accepted, hang)
    port = server.sockets[0].getsockname()[1]
    done: list[tuple[str, str]] = []
    pool = Pool("127.0.0.1", port, lambda req, outcome, end, body: done.append((req.route, outcome)), timeout)
    try:
        for i in range(n):  # one after another, so a kept-alive connection is free for the next
            pool.submit(Request(f"r{i}", GET, time.monotonic()))
            deadline = time.monotonic() + timeout + 5
            while len(done) <= i and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
                pool.sweep(time.monotonic())
    finally:
        pool.close()
        server.close()
    return done, len(accepted)


@pytest.mark.parametrize("kind, status", [("plain", "200"), ("split", "201"), ("chunked", "200"),
                                          ("close", "503"), ("until-close", "200")])
def test_every_answer_shape_is_read_to_its_end(kind, status):
    done, connections = asyncio.run(_run(kind, 5))
    assert done == [(f"r{i}", status) for i in range(5)]
    if kind in ("plain", "split", "chunked"):
        assert connections == 1  # one request at a time on a reused keep-alive connection
    else:
        assert connections == 5


def test_a_stalled_server_ends_requests_as_timeouts_counted_from_their_schedule():
    started = time.monotonic()
    done, _ = asyncio.run(_run("plain", 3, timeout=0.3, hang=True))
    assert done == [("r0", "timeout"), ("r1", "timeout"), ("r2", "timeout")]
    assert time.monotonic() - started < 5  # each ends by the 100 ms sweep after its 0.3 s


def test_a_refused_connection_is_an_error():
    async def run() -> list[str]:
        done: list[str] = []
        pool = Pool("127.0.0.1", 9, lambda req, outcome, end, body: done.append(outcome), 1.0)
        for _ in range(3):
            pool.submit(Request("r", GET, time.monotonic()))
        for _ in range(50):
            if len(done) == 3:
                break
            await asyncio.sleep(0.02)
        pool.close()
        return done

    assert asyncio.run(run()) == ["error", "error", "error"]


def test_a_keep_alive_connection_closed_while_idle_is_retried_not_failed():
    async def run() -> list[str]:
        done: list[str] = []
        writers: list[asyncio.StreamWriter] = []

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(ANSWERS["plain"][0])
            except (asyncio.IncompleteReadError, ConnectionError):
                pass

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        pool = Pool("127.0.0.1", port, lambda req, outcome, end, body: done.append(outcome), 2.0)
        pool.submit(Request("a", GET, time.monotonic()))
        await asyncio.sleep(0.1)
        writers[0].transport.abort()  # the server drops the idle keep-alive connection
        pool.submit(Request("b", GET, time.monotonic()))  # may race the close: retried once
        for _ in range(100):
            if len(done) == 2:
                break
            await asyncio.sleep(0.02)
        pool.close()
        server.close()
        return done

    assert asyncio.run(run()) == ["200", "200"]
