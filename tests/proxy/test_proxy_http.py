"""The control API's HTTP/1.1 handling over a raw socket: keep-alive, chunked bodies,
Expect: 100-continue, malformed requests."""

from __future__ import annotations

import socket

import pytest


def exchange(server, raw: bytes, expect_responses: int = 1) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as s:
        s.sendall(raw)
        data = b""
        while data.count(b"HTTP/1.1 ") < expect_responses or not _complete(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _complete(data: bytes) -> bool:
    head, sep, body = data.rpartition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":")[1])
    return True


def test_keep_alive_serves_pipelined_requests(api, proxy_server):
    raw = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n" * 2 + b"GET /proxies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    data = exchange(proxy_server, raw, 3)
    assert data.count(b"HTTP/1.1 200 OK") == 3
    assert data.endswith(b"{}")
    assert b"Connection: close" in data


def test_chunked_body_and_expect_continue(api, proxy_server, echo):
    body = ('{"name":"chunky","listen":"127.0.0.1:0","upstream":"%s"}' % echo.address).encode()
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 7]), body[i:i + 7]) for i in range(0, len(body), 7)) + b"0\r\n\r\n"
    raw = (b"POST /proxies HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n"
           b"Connection: close\r\n\r\n" + chunked)
    data = exchange(proxy_server, raw, 2)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n")
    assert api.get("/proxies/chunky").status_code == 200


@pytest.mark.parametrize("raw", [b"NONSENSE\r\n\r\n", b"GET /version HTTP/1.1\r\nbad header line\r\n\r\n",
                                 b"POST /proxies HTTP/1.1\r\nContent-Length: nope\r\n\r\n"])
def test_malformed_requests_get_400_and_the_server_carries_on(api, proxy_server, raw):
    data = exchange(proxy_server, raw)
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert api.get("/version").status_code == 200


def test_percent_encoded_names_are_decoded(api, echo):
    api.create("with space", echo.address)
    r = api.get("/proxies/with%20space")
    assert r.status_code == 200 and r.json()["name"] == "with space"
    assert api.delete("/proxies/with%20space").status_code == 204
