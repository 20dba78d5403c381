"""The bulk splice mode (GAMEDAY_PROXY_SPLICE=bulk, on a proxy of this module's own): small
messages stay on the event loop, a bulk transfer moves to a splice thread and comes back when it is over, and
a toxic added and removed meanwhile loses no byte."""

from __future__ import annotations

import sys
import time

import pytest
from proxy_helpers import connect, served_proxy
from test_proxy_fastpath import Stream, fast_links, wait_for

pytestmark = [
    pytest.mark.cpu_slot,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="splice is Linux-only"),
]
NEITHER = {"upstream": False, "downstream": False}
BOTH = {"upstream": True, "downstream": True}


@pytest.fixture(scope="module")
def proxy_server():
    """A proxy server of this module's own in the `bulk` splice mode."""
    with served_proxy(splice='bulk') as server:
        yield server


@pytest.fixture
def proxied(api, echo):
    return api.create("p", echo.address)["listen"]


def ping_pong(s, n: int) -> None:
    for i in range(n):
        msg = b"ping %d" % i
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(len(msg) - len(got))
        assert got == msg


def test_small_messages_stay_on_the_event_loop(proxy_server, proxied):
    with connect(proxied) as s:
        ping_pong(s, 50)
        assert fast_links(proxy_server) == NEITHER


def test_bulk_moves_to_splice_and_back_when_it_is_over(proxy_server, proxied):
    with connect(proxied, timeout=30) as s:
        ping_pong(s, 5)
        stream = Stream(s, 400 * 1000 * 1000, seed=4).start()
        on_splice = wait_for(lambda: fast_links(proxy_server) == BOTH or stream.received >= stream.total, 20)
        seen = fast_links(proxy_server) if stream.received < stream.total else None
        stream.join()
        assert on_splice and seen == BOTH, seen
        for _ in range(40):  # small traffic again: both links go back to the event loop
            ping_pong(s, 5)
            if fast_links(proxy_server) == NEITHER:
                break
        assert fast_links(proxy_server) == NEITHER
        ping_pong(s, 5)


def test_toxic_added_and_removed_during_bulk_on_splice(api, proxy_server, proxied):
    rate_kbs = 4000
    with connect(proxied, timeout=30) as s:
        stream = Stream(s, 150 * 1000 * 1000, seed=5).start()
        assert wait_for(lambda: fast_links(proxy_server)["downstream"], 20)
        api.add_toxic("p", name="bw", type="bandwidth", stream="downstream", attributes={"rate": rate_kbs})
        added = time.monotonic()
        time.sleep(1.2)
        api.delete("/proxies/p/toxics/bw")
        removed = time.monotonic()
        stream.join()
        throttled = stream.rate_between(added + 0.4, removed - 0.1)
    assert throttled < rate_kbs * 1000 * 1.5, throttled
