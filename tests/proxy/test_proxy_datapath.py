"""Compatibility checklist items 16-27 (the data path), with real sockets through a real proxy."""

from __future__ import annotations

import re
import socket
import struct
import threading
import time

import pytest
from proxy_helpers import EchoServer, connect, free_port, recv_exactly

# the toxics' timings are measured to a few milliseconds: a starved CPU spoils them (tests/conftest.py)
pytestmark = pytest.mark.cpu_slot


def closest(target: float, attempts: int, measure) -> float:
    """The measurement closest to ``target`` over a few attempts: a loaded machine's scheduler
    can delay any single run, and what is checked is the proxy's timing, not the host's."""
    best = measure()
    for _ in range(attempts - 1):
        if abs(best - target) <= 0.003:
            break
        m = measure()
        if abs(m - target) < abs(best - target):
            best = m
    return best


def read_until_closed(sock: socket.socket, limit: float = 5.0) -> tuple[bytes, float, BaseException | None]:
    """Read until EOF or an error; returns the data, the time it ended and the error."""
    sock.settimeout(limit)
    buf = bytearray()
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(buf), time.monotonic(), None
            buf += chunk
    except OSError as exc:
        return bytes(buf), time.monotonic(), exc


@pytest.fixture
def proxied(api, echo):
    """A proxy named 'p' in front of the echo server; returns its listen address."""
    return api.create("p", echo.address)["listen"]


# -- 16, 17 -----------------------------------------------------------------------------------
def test_16_echo_small_large_and_split_writes(proxied):
    with connect(proxied) as s:
        s.sendall(b"hello world")
        assert recv_exactly(s, 11) == b"hello world"
        big = bytes(range(256)) * 256  # 64 KiB
        s.sendall(big)
        assert recv_exactly(s, len(big)) == big
        s.sendall(b"hello ")
        s.sendall(b"world")
        assert recv_exactly(s, 11) == b"hello world"


def test_17_upstream_down_connect_succeeds_then_eof(api):
    listen = api.create("down", f"127.0.0.1:{free_port()}")["listen"]
    with connect(listen) as s:
        start = time.monotonic()
        data, ended, err = read_until_closed(s, 2)
        assert data == b"" and err is None
        assert ended - start < 0.5


# -- 18: live changes lose and reorder nothing -------------------------------------------------
def test_18_live_add_remove_reset_keeps_the_echo(api, proxied):
    with connect(proxied) as s:
        for i in range(100):
            msg = f"message {i:03d}".encode()
            if i % 3 == 0:
                api.add_toxic("p", name=f"lat{i}", type="latency", stream=("upstream", "downstream")[i % 2])
            elif i % 3 == 1:
                for t in api.get("/proxies/p/toxics").json():
                    api.delete(f"/proxies/p/toxics/{t['name']}")
            else:
                api.add_toxic("p", type="noop", name=f"noop{i}")
                api.post("/reset")
            s.sendall(msg)
            assert recv_exactly(s, len(msg)) == msg


def test_18_toggling_toxics_under_traffic_drops_no_bytes(api, proxied):
    n = 65535
    payload = b"".join(struct.pack(">H", i) for i in range(n))
    stop = threading.Event()

    def toggle() -> None:
        k = 0
        while not stop.is_set():
            stream = ("upstream", "downstream")[k % 2]
            api.add_toxic("p", name="t", type="latency", stream=stream, attributes={"latency": k % 3})
            api.delete("/proxies/p/toxics/t")
            k += 1

    with connect(proxied, timeout=30) as s:
        toggler = threading.Thread(target=toggle)
        toggler.start()
        received = bytearray()

        def reader() -> None:
            received.extend(recv_exactly(s, len(payload)))

        rt = threading.Thread(target=reader)
        rt.start()
        try:
            for i in range(0, len(payload), 2):
                s.send(payload[i : i + 2])
            rt.join(30)
        finally:
            stop.set()
            toggler.join(30)
    assert len(received) == len(payload)
    assert received == payload


# -- 19: plain overhead -------------------------------------------------------------------------
def test_19_plain_proxy_overhead_is_small(proxied, echo):
    """Mean added round trip below 600 us (two hops of Toxiproxy's 300 us bound); the
    benchmark prints the real figures."""

    def mean_rtt(addr: str) -> float:
        with connect(addr) as s:
            for _ in range(50):
                s.sendall(b"x")
                s.recv(1)
            start = time.perf_counter()
            for _ in range(500):
                s.sendall(b"x")
                s.recv(1)
            return (time.perf_counter() - start) / 500

    direct = min(mean_rtt(echo.address) for _ in range(3))
    through = min(mean_rtt(proxied) for _ in range(3))
    assert through - direct < 600e-6, (through, direct)


# -- 20: latency ------------------------------------------------------------------------------
def _timed_echo(listen: str, msg: bytes = b"ping") -> float:
    with connect(listen) as s:
        start = time.monotonic()
        s.sendall(msg)
        assert recv_exactly(s, len(msg)) == msg
        return time.monotonic() - start


@pytest.mark.parametrize("streams", [("upstream",), ("downstream",), ("upstream", "downstream")])
def test_20_latency_within_jitter_plus_10ms(api, proxied, streams):
    for st in streams:
        api.add_toxic("p", type="latency", stream=st, attributes={"latency": 100, "jitter": 5})
    expected = 0.1 * len(streams)
    elapsed = closest(expected, 3, lambda: _timed_echo(proxied))
    assert abs(elapsed - expected) <= 0.005 * len(streams) + 0.010, elapsed


def test_20_stacked_latency_adds_up(api, proxied):
    api.add_toxic("p", name="a", type="latency", attributes={"latency": 500})
    api.add_toxic("p", name="b", type="latency", attributes={"latency": 500})
    assert abs(closest(1.0, 2, lambda: _timed_echo(proxied)) - 1.0) <= 0.02


def test_20_latency_does_not_reduce_throughput(api):
    size = 48 * 1024 * 1024

    def source(sock: socket.socket) -> None:
        block = b"\0" * (1 << 20)
        for _ in range(size // len(block)):
            sock.sendall(block)
        sock.close()

    server = EchoServer(source)
    try:
        listen = api.create("bulk", server.address)["listen"]
        api.add_toxic("bulk", type="latency", attributes={"latency": 100})

        def rate() -> float:
            with connect(listen, timeout=20) as s:
                start = time.monotonic()
                data, ended, err = read_until_closed(s, 20)
            assert err is None and len(data) == size
            return size / (ended - start - 0.1)

        best = max(rate(), rate())  # best of two: a busy host can stall either run
        assert best >= 100e6, f"{best / 1e6:.0f} MB/s"
    finally:
        server.stop()


# -- 21: bandwidth ----------------------------------------------------------------------------
def test_21_bandwidth_480kb_at_1000kbps_takes_480ms(api):
    got: dict[str, float] = {}
    size = 480 * 1000

    def sink(sock: socket.socket) -> None:
        n = 0
        while n < size:
            chunk = sock.recv(65536)
            if not chunk:
                break
            n += len(chunk)
        got["end"] = time.monotonic()
        got["n"] = n
        sock.sendall(b"k")

    server = EchoServer(sink)
    try:
        listen = api.create("bw", server.address)["listen"]
        api.add_toxic("bw", type="bandwidth", stream="upstream", attributes={"rate": 1000})

        def measure() -> float:
            with connect(listen) as s:
                start = time.monotonic()
                s.sendall(b"\1" * size)
                assert recv_exactly(s, 1) == b"k"
            assert got["n"] == size
            return got["end"] - start

        elapsed = closest(0.480, 3, measure)
        assert abs(elapsed - 0.480) <= 0.010, elapsed
    finally:
        server.stop()


def test_21_bandwidth_rate_0_holds_data_until_removed(api, proxied):
    api.add_toxic("p", type="bandwidth", attributes={"rate": 0})
    with connect(proxied) as s:
        s.sendall(b"held")
        s.settimeout(0.3)
        with pytest.raises(socket.timeout):
            s.recv(4)
        api.delete("/proxies/p/toxics/bandwidth_downstream")
        s.settimeout(2)
        assert recv_exactly(s, 4) == b"held"


# -- 22: slicer over sockets ------------------------------------------------------------------
def test_22_slicer_delivers_intact_in_small_reads(api, proxied):
    api.add_toxic("p", type="slicer", attributes={"average_size": 1, "size_variation": 0, "delay": 20000})
    with connect(proxied) as s:
        s.sendall(b"abcdefgh")
        reads = []
        while sum(map(len, reads)) < 8:
            reads.append(s.recv(100))
    assert b"".join(reads) == b"abcdefgh"
    assert len(reads) >= 6  # 20 ms between 1-byte pieces: (almost) one read each


# -- 23: timeout toxic ------------------------------------------------------------------------
def test_23_removing_latency_in_front_of_timeout_does_not_hang(api, proxied):
    api.add_toxic("p", type="latency", attributes={"latency": 1000})
    api.add_toxic("p", type="timeout", attributes={"timeout": 0})
    with connect(proxied) as s:
        s.sendall(b"data")
        time.sleep(0.05)
        start = time.monotonic()
        assert api.delete("/proxies/p/toxics/latency_downstream").status_code == 204
        assert time.monotonic() - start < 1


def test_23_removing_timeout_closes_client_and_server(api):
    ended: dict[str, float] = {}

    def watcher(sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            while sock.recv(100):
                pass
        except OSError:
            pass
        ended["server"] = time.monotonic()

    server = EchoServer(watcher)
    try:
        listen = api.create("to", server.address)["listen"]
        api.add_toxic("to", type="timeout", attributes={"timeout": 0})
        with connect(listen) as s:
            s.sendall(b"x")
            time.sleep(0.1)
            start = time.monotonic()
            api.delete("/proxies/to/toxics/timeout_downstream")
            _data, client_end, _err = read_until_closed(s, 2)
        deadline = time.monotonic() + 2
        while "server" not in ended and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client_end - start < 1
        assert ended["server"] - start < 1
    finally:
        server.stop()


def test_timeout_closes_after_idle_time(api, proxied):
    api.add_toxic("p", type="timeout", attributes={"timeout": 100})
    with connect(proxied) as s:
        start = time.monotonic()
        s.sendall(b"swallowed")
        data, ended, err = read_until_closed(s, 2)
    assert data == b"" and 0.09 <= ended - start <= 0.4


# -- 24: reset_peer ---------------------------------------------------------------------------
@pytest.mark.parametrize("stream", ["upstream", "downstream"])
@pytest.mark.parametrize("timeout_ms", [0, 100])
def test_24_reset_peer(api, proxied, stream, timeout_ms):
    api.add_toxic("p", type="reset_peer", stream=stream, attributes={"timeout": timeout_ms})

    def measure() -> float:
        with connect(proxied) as s:
            start = time.monotonic()
            s.sendall(b"hello")
            s.settimeout(2)
            with pytest.raises(ConnectionResetError):
                while s.recv(100):
                    pass
            elapsed = time.monotonic() - start
            assert s.recv(100) == b""
            return elapsed

    elapsed = closest(timeout_ms / 1000, 5, measure)
    assert abs(elapsed - timeout_ms / 1000) <= 0.010, elapsed


# -- 25: limit_data over sockets --------------------------------------------------------------
def test_25_limit_data_90_then_20(api):
    got = bytearray()
    closed = threading.Event()

    def recorder(sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            while chunk := sock.recv(65536):
                got.extend(chunk)
        finally:
            closed.set()

    server = EchoServer(recorder)
    try:
        listen = api.create("lim", server.address)["listen"]
        api.add_toxic("lim", type="limit_data", stream="upstream", attributes={"bytes": 100})
        with connect(listen) as s:
            s.sendall(b"a" * 90)
            time.sleep(0.05)
            s.sendall(b"b" * 20)
            data, _t, _err = read_until_closed(s, 2)
        assert closed.wait(2)
        assert bytes(got) == b"a" * 90 + b"b" * 10
        assert data == b""
    finally:
        server.stop()


# -- 26: toxicity -----------------------------------------------------------------------------
def test_26_toxicity_0_passes_and_update_to_1_applies(api, proxied):
    api.add_toxic("p", type="timeout", toxicity=0, attributes={"timeout": 0})
    with connect(proxied) as s:
        s.sendall(b"through")
        assert recv_exactly(s, 7) == b"through"
        api.patch("/proxies/p/toxics/timeout_downstream", json={"toxicity": 1, "attributes": {"timeout": 100}})
        start = time.monotonic()
        data, ended, err = read_until_closed(s, 2)
    assert data == b"" and ended - start < 0.150


# -- 27: metrics ------------------------------------------------------------------------------
def test_27_proxy_metrics_after_a_connection_closes(api, proxied, echo):
    with connect(proxied) as s:
        s.sendall(b"12345")
        assert recv_exactly(s, 5) == b"12345"
    time.sleep(0.1)
    text = api.get("/metrics").text
    labels = f'direction="upstream",listener="{proxied}",proxy="p",upstream="{echo.address}"'
    pattern = r"toxiproxy_proxy_(received|sent)_bytes_total\{(.*?)\} ([0-9.e+]+)"
    found = {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(pattern, text)}
    assert found[("received", labels)] >= 5
    assert found[("sent", labels)] >= 5
    down = labels.replace("upstream\",listener", "downstream\",listener", 1)
    assert found[("sent", down)] >= 5


# -- slow_close and chain order ---------------------------------------------------------------
def test_slow_close_holds_the_close_back(api):
    server = EchoServer(lambda s: (s.sendall(b"bye"), s.close()))
    try:
        listen = api.create("sc", server.address)["listen"]
        api.add_toxic("sc", type="slow_close", attributes={"delay": 200})
        with connect(listen) as s:
            assert recv_exactly(s, 3) == b"bye"
            start = time.monotonic()
            data, ended, err = read_until_closed(s, 2)
        assert data == b"" and err is None
        assert 0.19 <= ended - start <= 0.45
    finally:
        server.stop()


@pytest.mark.parametrize("order, expected", [(("bandwidth", "limit_data"), 0.1), (("limit_data", "bandwidth"), 0.01)])
def test_chain_runs_in_creation_order(api, order, expected):
    """bandwidth(1 KB/s) before limit_data(10): the first 100-byte piece leaves at 100 ms and is
    cut to 10; the other way round the 10 bytes pass at once and take 10 ms at 1 KB/s."""
    server = EchoServer(lambda s: (s.sendall(b"x" * 1000), s.recv(1)))
    try:
        listen = api.create("order", server.address)["listen"]
        attrs = {"bandwidth": {"rate": 1}, "limit_data": {"bytes": 10}}
        for t in order:
            api.add_toxic("order", type=t, attributes=attrs[t])

        def measure() -> float:
            with connect(listen) as s:
                start = time.monotonic()
                data, ended, err = read_until_closed(s, 2)
            assert data == b"x" * 10
            return ended - start

        elapsed = closest(expected, 3, measure)
        assert abs(elapsed - expected) <= 0.03, elapsed
    finally:
        server.stop()
