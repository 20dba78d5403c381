"""The splice fast path (lab/proxy/splice.py) with real sockets through a real proxy process.

This module's proxy runs with GAMEDAY_PROXY_SPLICE=always: a link with no toxic runs on a
splice thread; adding a toxic hands it back to the toxic
pipeline and removing the last one hands it to a thread again. What is checked: the threads
exist when they should, no byte is lost or reordered across switches (hashes of everything
sent and received), the toxic takes effect while it is there, and the byte counters the
metrics report stay exact.
"""

from __future__ import annotations

import hashlib
import random
import re
import select
import signal
import socket
import struct
import sys
import threading
import time

import pytest
from proxy_helpers import connect, recv_exactly, served_proxy

pytestmark = [
    pytest.mark.cpu_slot,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="splice is Linux-only"),
]


@pytest.fixture(scope="module")
def proxy_server():
    """A proxy server of this module's own with every toxic-free link on the fast path
    (GAMEDAY_PROXY_SPLICE=always), so every add and remove switches paths."""
    with served_proxy(splice='always') as server:
        yield server


@pytest.fixture
def proxied(api, echo):
    """A proxy named 'p' in front of the echo server; returns its listen address."""
    return api.create("p", echo.address)["listen"]


def fast_links(proxy_server) -> dict[str, bool]:
    """Which links of proxy 'p''s one connection are on the fast path, from the state dump the
    proxy writes to stderr on SIGUSR1."""
    before = len(proxy_server.stderr_text())
    proxy_server.proc.send_signal(signal.SIGUSR1)
    for _ in range(100):
        text = proxy_server.stderr_text()[before:]
        m = re.search(r"proxy p .*\n  conn .*upstream\(.*fast=(\w+).*\) downstream\(.*fast=(\w+)", text)
        if m:
            return {"upstream": m.group(1) == "True", "downstream": m.group(2) == "True"}
        time.sleep(0.02)
    raise AssertionError(f"no state dump: {proxy_server.stderr_text()[before:]!r}")


def wait_for(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


class Stream:
    """Bulk data both ways through an echo: a writer thread sends ``total`` pseudo-random bytes
    (or until ``stop()``), a reader thread hashes what comes back and records (time, bytes so
    far) until it has everything that was written."""

    def __init__(self, sock: socket.socket, total: int, seed: int = 1, block: int = 64 * 1024) -> None:
        self.sock = sock
        self.total = total
        self.block = block
        self.rng = random.Random(seed)
        self.sent_hash = hashlib.sha256()
        self.recv_hash = hashlib.sha256()
        self.received = 0
        self.written = 0
        self.writing = True
        self.last = time.monotonic()
        self._stop = threading.Event()
        self.progress: list[tuple[float, int]] = []
        self.errors: list[BaseException] = []
        self.writer = threading.Thread(target=self._write)
        self.reader = threading.Thread(target=self._read)

    def start(self) -> "Stream":
        self.writer.start()
        self.reader.start()
        return self

    def _write(self) -> None:
        try:
            while self.written < self.total and not self._stop.is_set():
                data = self.rng.randbytes(min(self.block, self.total - self.written))
                self.sent_hash.update(data)
                self.sock.sendall(data)
                self.written += len(data)
        except BaseException as exc:  # reported by join()
            self.errors.append(exc)
        finally:
            self.writing = False

    def stop(self) -> None:
        self._stop.set()

    def _read(self) -> None:
        buf = bytearray(256 * 1024)
        view = memoryview(buf)
        try:
            while self.writing or self.received < self.written:
                # wait in short steps: the writer may stop while this thread waits for more
                if not select.select([self.sock], [], [], 0.1)[0]:
                    if time.monotonic() - self.last > 30:
                        raise TimeoutError(f"nothing arrived for 30 s at {self.received} of {self.written} bytes")
                    continue
                n = self.sock.recv_into(view)
                if not n:
                    raise EOFError(f"EOF after {self.received} of {self.written} bytes")
                self.recv_hash.update(view[:n])
                self.received += n
                self.last = time.monotonic()
                self.progress.append((self.last, self.received))
        except BaseException as exc:
            self.errors.append(exc)

    def join(self, timeout: float = 60) -> None:
        self.writer.join(timeout)
        self.reader.join(timeout)
        assert not self.writer.is_alive() and not self.reader.is_alive(), f"stuck at {self.received}/{self.total}"
        assert not self.errors, self.errors
        assert self.received == self.written
        assert self.recv_hash.hexdigest() == self.sent_hash.hexdigest(), "bytes lost or reordered"

    def rate_between(self, t0: float, t1: float) -> float:
        """Bytes per second received between monotonic times t0 and t1."""
        inside = [b for t, b in self.progress if t0 <= t <= t1]
        before = [b for t, b in self.progress if t < t0]
        start = before[-1] if before else 0
        return ((inside[-1] if inside else start) - start) / (t1 - t0)


def test_links_without_toxics_run_on_splice_threads(api, proxy_server, proxied):
    both = {"upstream": True, "downstream": True}
    with connect(proxied) as s:
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"
        assert wait_for(lambda: fast_links(proxy_server) == both)
        api.add_toxic("p", name="lat", type="latency", stream="downstream", attributes={"latency": 1})
        assert fast_links(proxy_server) == {"upstream": True, "downstream": False}  # at once
        s.sendall(b"pong")
        assert s.recv(4) == b"pong"
        api.delete("/proxies/p/toxics/lat")
        assert wait_for(lambda: fast_links(proxy_server) == both)
        s.sendall(b"ping")
        assert s.recv(4) == b"ping"


def test_toxic_added_and_removed_under_a_bulk_transfer(api, proxied):
    """A bandwidth toxic while 120 MB echo through: throttled while there, byte-exact overall."""
    rate_kbs = 4000  # 4 MB/s
    with connect(proxied, timeout=30) as s:
        stream = Stream(s, 120 * 1000 * 1000).start()
        assert wait_for(lambda: stream.received > 10_000_000, 20)
        api.add_toxic("p", name="bw", type="bandwidth", stream="downstream", attributes={"rate": rate_kbs})
        added = time.monotonic()
        time.sleep(1.2)
        api.delete("/proxies/p/toxics/bw")
        removed = time.monotonic()
        stream.join()
        throttled = stream.rate_between(added + 0.4, removed - 0.1)
        after = stream.rate_between(removed, stream.progress[-1][0])
    assert throttled < rate_kbs * 1000 * 1.5, throttled  # the toxic's effect while active
    assert after > throttled * 3, (after, throttled)


def test_switching_fast_path_and_toxics_1000_times_stays_byte_exact(api, proxied):
    """1,000 add/remove cycles (both streams, several toxic types) under a running echo."""
    toxics = [
        {"type": "latency", "attributes": {"latency": 0}},
        {"type": "noop"},
        {"type": "bandwidth", "attributes": {"rate": 1_000_000}},
        {"type": "latency", "attributes": {"latency": 1, "jitter": 1}},
    ]
    with connect(proxied, timeout=30) as s:
        stream = Stream(s, 10**12, seed=2, block=8 * 1024).start()
        started = time.monotonic()
        try:
            for k in range(1000):
                body = dict(toxics[k % len(toxics)], name="t", stream=("upstream", "downstream")[k % 2])
                api.add_toxic("p", **body)
                r = api.delete("/proxies/p/toxics/t")
                assert r.status_code == 204
        finally:
            elapsed = time.monotonic() - started
            stream.stop()
        stream.join()
    assert stream.received > 1_000_000, stream.received  # data really flowed meanwhile
    assert elapsed < 30, elapsed


def test_byte_counters_stay_exact_across_the_fast_path(api, proxied, echo):
    """Metrics after a connection that ran fast, then with a toxic, then fast again."""
    payload = random.Random(3).randbytes(300_000)
    with connect(proxied) as s:
        for step in range(3):
            if step == 1:
                api.add_toxic("p", name="t", type="latency", stream="upstream", attributes={"latency": 1})
            if step == 2:
                api.delete("/proxies/p/toxics/t")
            s.sendall(payload)
            got = bytearray()
            while len(got) < len(payload):
                got += s.recv(65536)
            assert got == payload
    labels = f'direction="upstream",listener="{proxied}",proxy="p",upstream="{echo.address}"'
    down = labels.replace('upstream",listener', 'downstream",listener', 1)

    def counters() -> dict:
        text = api.get("/metrics").text
        pattern = r"toxiproxy_proxy_(received|sent)_bytes_total\{(.*?)\} ([0-9.e+]+)"
        return {(m.group(1), m.group(2)): float(m.group(3)) for m in re.finditer(pattern, text)}

    assert wait_for(lambda: ("sent", down) in counters())
    found = counters()
    total = 3 * len(payload)
    assert found[("received", labels)] == total
    assert found[("sent", labels)] == total
    assert found[("received", down)] == total
    assert found[("sent", down)] == total


def test_sequenced_small_writes_survive_switches(api, proxied):
    """Checklist 18's shape (2-byte sequenced writes) with the fast path in the loop."""
    n = 20000
    payload = b"".join(struct.pack(">H", i % 65536) for i in range(n))
    stop = threading.Event()

    def toggle() -> None:
        while not stop.is_set():
            api.add_toxic("p", name="t", type="noop", stream="upstream")
            api.delete("/proxies/p/toxics/t")

    with connect(proxied, timeout=30) as s:
        toggler = threading.Thread(target=toggle)
        toggler.start()
        received = bytearray()
        reader = threading.Thread(target=lambda: received.extend(recv_exactly(s, len(payload))))
        reader.start()
        try:
            for i in range(0, len(payload), 2):
                s.send(payload[i : i + 2])
            reader.join(30)
        finally:
            stop.set()
            toggler.join(30)
    assert received == payload


# Each transaction checks what came back: a wrong or shifted byte in either direction fails the
# client (division by zero in pgbench's own arithmetic) or breaks PostgreSQL's framing; both
# count as failures.
CHECKED_SCRIPT = r"""\set n random(1, 100000)
SELECT :n + 1 AS m, length(repeat(md5(:n::text), 40)) AS len, repeat(md5(:n::text), 40) AS pad \gset
\set bad case when :m = :n + 1 and :len = 1280 then 0 else 1 end
\set check 1 / (1 - :bad)
"""


@pytest.mark.integration
def test_toxic_added_and_removed_under_a_running_pgbench(api, pg_cluster, tmp_path):
    """pgbench runs on the splice fast path; a 20 ms latency toxic comes and goes mid-run: the
    progress report shows it while it is there, every transaction's reply checks out, none fail."""
    pg_proxy = int(api.create("postgres", f"127.0.0.1:{pg_cluster.port}")["listen"].rsplit(":", 1)[1])
    script = tmp_path / "checked.sql"
    script.write_text(CHECKED_SCRIPT)
    result = {}
    args = ("-n", "-f", str(script), "-c", "4", "-j", "2", "-T", "7", "-P", "1")
    t = threading.Thread(target=lambda: result.update(r=pg_cluster.pgbench(*args, port=pg_proxy, timeout=60)))
    t.start()
    time.sleep(2.2)
    api.add_toxic("postgres", name="lat", type="latency", stream="downstream", attributes={"latency": 20})
    time.sleep(2.5)
    api.delete("/proxies/postgres/toxics/lat")
    t.join(60)
    r = result["r"]
    assert r.returncode == 0, r.stderr
    assert re.search(r"number of failed transactions: 0 ", r.stdout), r.stdout
    done = int(re.search(r"number of transactions actually processed: (\d+)", r.stdout).group(1))
    assert done > 500, r.stdout
    lats = [float(x) for x in re.findall(r"progress: [0-9.]+ s, [0-9.]+ tps, lat ([0-9.]+) ms", r.stderr)]
    assert len(lats) >= 6, r.stderr
    assert max(lats) >= 19, lats  # the toxic's effect while active
    assert lats[0] < 10 and lats[-1] < 10, lats  # fast before and after
