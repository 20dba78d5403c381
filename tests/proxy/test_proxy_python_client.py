"""Checklist item 28: what toxiproxy-python 0.1.1's own test suite exercises, driven through
that client against `gameday proxy` (create, enable/disable/down, stable listen, toxics dict,
reset, client-side populate, errors, /not_found)."""

from __future__ import annotations

import pytest
import requests
from proxy_helpers import accepts, connect, free_port, recv_exactly
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists


def test_28_create_list_get_and_destroy(toxi, echo):
    proxy = toxi.create(upstream=echo.address, name="client_test")
    assert proxy.name == "client_test" and proxy.upstream == echo.address and proxy.enabled is True
    host, port = proxy.listen.split(":")
    assert host == "127.0.0.1" and int(port) > 0
    assert set(toxi.proxies()) == {"client_test"}
    assert toxi.get_proxy("client_test").listen == proxy.listen
    assert toxi.get_proxy("missing") is None
    with pytest.raises(ProxyExists):
        toxi.create(upstream=echo.address, name="client_test")
    assert toxi.destroy(proxy) is True
    assert toxi.proxies() == {}
    with pytest.raises(NotFound):
        proxy.destroy()


def test_28_create_with_listen_and_disabled(toxi, echo):
    port = free_port()
    proxy = toxi.create(upstream=echo.address, name="fixed", listen=f"127.0.0.1:{port}", enabled=False)
    assert proxy.listen == f"127.0.0.1:{port}" and proxy.enabled is False
    assert not accepts(proxy.listen)


def test_28_disable_enable_and_down_keep_the_listen_address(toxi, echo):
    proxy = toxi.create(upstream=echo.address, name="toggle")
    listen = proxy.listen
    proxy.disable()
    assert toxi.get_proxy("toggle").enabled is False and not accepts(listen)
    proxy.enable()
    assert toxi.get_proxy("toggle").enabled is True and accepts(listen)
    with proxy.down():
        assert not accepts(listen)
        assert toxi.get_proxy("toggle").enabled is False
    assert accepts(listen)
    assert toxi.get_proxy("toggle").listen == listen


def test_28_toxics_dict_add_get_destroy(toxi, echo):
    proxy = toxi.create(upstream=echo.address, name="tox")
    assert proxy.add_toxic(type="latency", attributes={"latency": 30}) is None
    proxy.add_toxic(type="bandwidth", stream="upstream", name="slow", toxicity=0.5, attributes={"rate": 10})
    toxics = proxy.toxics()
    assert set(toxics) == {"latency_downstream", "slow"}
    slow = proxy.get_toxic("slow")
    assert (slow.type, slow.stream, slow.toxicity, slow.attributes) == ("bandwidth", "upstream", 0.5, {"rate": 10})
    assert proxy.get_toxic("nope") is None
    assert proxy.destroy_toxic("slow") is True
    assert set(proxy.toxics()) == {"latency_downstream"}
    with pytest.raises(NotFound):
        proxy.destroy_toxic("slow")


def test_28_invalid_toxic_raises(toxi, echo):
    proxy = toxi.create(upstream=echo.address, name="bad")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="latency", stream="sideways")
    with pytest.raises(InvalidToxic):
        proxy.add_toxic(type="no_such_toxic")
    with pytest.raises(ProxyExists):
        proxy.add_toxic(type="noop", name="n")
        proxy.add_toxic(type="noop", name="n")


def test_28_latency_toxic_through_the_client_takes_effect(toxi, echo):
    import time

    proxy = toxi.create(upstream=echo.address, name="lat")
    proxy.add_toxic(type="latency", attributes={"latency": 100})
    with connect(proxy.listen) as s:
        start = time.monotonic()
        s.sendall(b"ping")
        assert recv_exactly(s, 4) == b"ping"
        assert 0.09 <= time.monotonic() - start <= 0.15


def test_28_reset_reenables_and_clears(toxi, echo):
    proxy = toxi.create(upstream=echo.address, name="rst")
    proxy.add_toxic(type="timeout", attributes={"timeout": 0})
    proxy.disable()
    assert toxi.reset() is True
    again = toxi.get_proxy("rst")
    assert again.enabled is True and again.toxics() == {}
    assert accepts(again.listen)


def test_28_client_side_populate(toxi, echo):
    port_a, port_b = free_port(), free_port()
    wanted = [
        {"name": "pop_a", "upstream": echo.address, "listen": f"127.0.0.1:{port_a}"},
        {"name": "pop_b", "upstream": echo.address, "listen": f"127.0.0.1:{port_b}"},
    ]
    created = toxi.populate(wanted)
    assert sorted(p.name for p in created) == ["pop_a", "pop_b"]
    assert toxi.populate(wanted) == []  # identical: nothing re-created
    moved = [{"name": "pop_a", "upstream": echo.address, "listen": f"127.0.0.1:{free_port()}"}]
    assert [p.name for p in toxi.populate(moved)] == ["pop_a"]
    assert toxi.running() is True


def test_28_not_found_path(toxi, proxy_server):
    r = requests.get(proxy_server.url + "/not_found", timeout=5)
    assert (r.status_code, r.text) == (404, "404 page not found\n")
    assert toxi.version().startswith(b'{"version": "2.')
