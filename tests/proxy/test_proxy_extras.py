"""Where the proxy goes beyond Toxiproxy: the lab_ toxics and a control API that never waits
on the data path."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from proxy_helpers import EchoServer, accepts, connect, recv_exactly


def test_time_limit_closes_a_busy_connection(api, echo):
    listen = api.create("tl", echo.address)["listen"]
    t = api.add_toxic("tl", type="lab_time_limit", attributes={"duration": 300})
    assert t["attributes"] == {"duration": 300}
    with connect(listen) as s:
        start = time.monotonic()
        s.settimeout(2)
        closed_at = None
        try:
            while time.monotonic() - start < 2:  # steady traffic: a timeout toxic would never fire
                s.sendall(b"tick")
                if recv_exactly(s, 4) != b"tick":
                    closed_at = time.monotonic()
                    break
                time.sleep(0.02)
        except OSError:
            closed_at = time.monotonic()
    assert closed_at is not None
    assert 0.28 <= closed_at - start <= 0.6


def test_time_limit_clock_is_not_restarted_by_an_update(api, echo):
    listen = api.create("tl", echo.address)["listen"]
    api.add_toxic("tl", type="lab_time_limit", attributes={"duration": 400})
    with connect(listen) as s:
        start = time.monotonic()
        time.sleep(0.2)
        api.patch("/proxies/tl/toxics/lab_time_limit_downstream", json={"attributes": {"duration": 400}})
        s.settimeout(2)
        assert s.recv(10) == b""
        assert 0.38 <= time.monotonic() - start <= 0.7


def test_refuse_when_down_refuses_then_listens_again(api):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    upstream_port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    listen = api.create("db", f"127.0.0.1:{upstream_port}")["listen"]
    api.add_toxic("db", type="lab_refuse_when_down", attributes={"interval": 50})
    with pytest.raises(ConnectionResetError):  # the first client finds out: it is reset
        with connect(listen) as s:  # (at connect or at its first read: the RST races the handshake)
            s.settimeout(2)
            s.recv(1)
    time.sleep(0.05)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(tuple_of(listen), timeout=1).close()
    assert api.get("/proxies/db").json()["enabled"] is True
    up = EchoServer(port=upstream_port)
    try:
        deadline = time.monotonic() + 2
        while not accepts(listen) and time.monotonic() < deadline:
            time.sleep(0.02)
        with connect(listen) as s:
            s.sendall(b"back")
            assert recv_exactly(s, 4) == b"back"
    finally:
        up.stop()


def tuple_of(listen: str) -> tuple[str, int]:
    host, port = listen.rsplit(":", 1)
    return host, int(port)


def test_without_refuse_toxic_a_down_upstream_accepts_then_closes(api):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    listen = api.create("db", f"127.0.0.1:{port}")["listen"]
    for _ in range(3):
        with connect(listen) as s:
            s.settimeout(2)
            assert s.recv(1) == b""


def test_control_api_answers_while_connections_push_data(api):
    """16 connections stream flat out through a latency toxic while the API adds, updates and
    removes toxics; every call answers promptly and no stream loses a byte."""

    def source(sock: socket.socket) -> None:
        block = bytes(range(256)) * 256
        try:
            for _ in range(400):
                sock.sendall(block)
        finally:
            sock.close()

    server = EchoServer(source)
    try:
        listen = api.create("busy", server.address)["listen"]
        results: list[int] = []
        lock = threading.Lock()

        def drain() -> None:
            with connect(listen, timeout=30) as s:
                n = 0
                while chunk := s.recv(1 << 16):
                    n += len(chunk)
                with lock:
                    results.append(n)

        threads = [threading.Thread(target=drain) for _ in range(16)]
        for t in threads:
            t.start()
        worst = 0.0
        for i in range(20):
            for method, path, body in [
                ("POST", "/proxies/busy/toxics", {"name": "l", "type": "latency", "attributes": {"latency": 1}}),
                ("PATCH", "/proxies/busy/toxics/l", {"attributes": {"latency": 2}}),
                ("GET", "/proxies", None),
                ("DELETE", "/proxies/busy/toxics/l", None),
            ]:
                start = time.monotonic()
                r = api.request(method, path, json=body)
                worst = max(worst, time.monotonic() - start)
                assert r.status_code < 300, r.text
        for t in threads:
            t.join(60)
        assert results == [400 * 65536] * 16
        assert worst < 1.0, worst  # the benchmark prints the real p99
    finally:
        server.stop()
