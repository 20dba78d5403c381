"""Compatibility checklist items 1-15 (the control API), against a real `gameday proxy`.

Numbers in test names refer to the checklist in the Toxiproxy reference (section 7).
"""

from __future__ import annotations

import pytest
from proxy_helpers import accepts, free_port
from toxiproxy.exceptions import InvalidToxic


# -- 1: browser block and request ids ---------------------------------------------------------
@pytest.mark.parametrize("path", ["/proxies", "/version", "/metrics"])
def test_01_mozilla_user_agent_is_forbidden(api, path):
    r = api.get(path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert r.status_code == 403
    assert r.text == "User agent not allowed\n"
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert len(r.headers["X-Toxiproxy-Request-Id"]) == 20


@pytest.mark.parametrize("ua", ["Wget/2.1", "curl/8.5.0", "toxiproxy-cli", "mozilla/5.0", None])
def test_01_other_user_agents_are_allowed(api, ua):
    headers = {"User-Agent": ua} if ua else {"User-Agent": ""}
    r = api.get("/proxies", headers=headers)
    assert r.status_code == 200
    assert len(r.headers["X-Toxiproxy-Request-Id"]) == 20


def test_01_request_ids_differ_and_unknown_paths_have_none(api):
    ids = {api.get("/version").headers["X-Toxiproxy-Request-Id"] for _ in range(5)}
    assert len(ids) == 5
    r = api.get("/not_found")
    assert r.status_code == 404
    assert r.text == "404 page not found\n"
    assert "X-Toxiproxy-Request-Id" not in r.headers
    assert api.get("/proxies/").status_code == 404  # no trailing-slash tolerance


def test_01_wrong_method_on_a_known_path_is_405_with_empty_body(api):
    r = api.request("PUT", "/proxies")
    assert (r.status_code, r.content) == (405, b"")
    assert api.request("HEAD", "/version").status_code == 405


# -- 2, 3: version and the empty list --------------------------------------------------------
def test_02_version_body_is_exact(api, toxi):
    r = api.get("/version")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json;charset=utf-8"
    assert r.content == b'{"version": "2.12.0+gameday"}\n'
    assert toxi.version() == r.content


def test_03_no_proxies_is_an_empty_object(api):
    r = api.get("/proxies")
    assert (r.status_code, r.content) == (200, b"{}")
    assert r.headers["Content-Type"] == "application/json"


# -- 4, 5: create errors ---------------------------------------------------------------------
def test_04_missing_name_then_upstream(api):
    r = api.post("/proxies", json={"name": "", "upstream": "", "listen": "127.0.0.1:0"})
    assert r.status_code == 400
    assert r.content == b'{"error":"missing required field: name","status":400}\n'
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
    r = api.post("/proxies", json={"name": "a", "listen": "127.0.0.1:0"})
    assert r.json() == {"error": "missing required field: upstream", "status": 400}


def test_05_duplicate_name_is_409_even_on_another_port(api, echo):
    api.create("dup", echo.address)
    r = api.post("/proxies", json={"name": "dup", "listen": "127.0.0.1:0", "upstream": echo.address})
    assert r.json() == {"error": "proxy already exists", "status": 409}


def test_05_port_in_use_is_500_with_the_bind_error_and_recovers(api, echo):
    holder = api.create("holder", echo.address)
    r = api.post("/proxies", json={"name": "second", "listen": holder["listen"], "upstream": echo.address})
    assert r.status_code == 500
    assert r.json() == {
        "error": f"listen tcp {holder['listen']}: bind: address already in use",
        "status": 500,
    }
    assert "second" not in api.get("/proxies").json()
    assert api.delete("/proxies/holder").status_code == 204
    again = api.create("second", echo.address, listen=holder["listen"])
    assert again["listen"] == holder["listen"]


# -- 6, 7: listen resolution, enable/disable --------------------------------------------------
def test_06_localhost_resolves_and_disabled_create_keeps_listen_as_given(api, toxi, echo):
    port = free_port()
    created = api.create("loc", echo.address, listen=f"localhost:{port}")
    assert created["listen"] == f"127.0.0.1:{port}"
    assert created["enabled"] is True
    assert api.get("/proxies").json()["loc"]["listen"] == f"127.0.0.1:{port}"
    assert toxi.get_proxy("loc").listen == f"127.0.0.1:{port}"
    api.delete("/proxies/loc")
    port2 = free_port()
    off = api.create("off", echo.address, listen=f"localhost:{port2}", enabled=False)
    assert (off["listen"], off["enabled"]) == (f"localhost:{port2}", False)
    assert api.get("/proxies/off").json()["listen"] == f"localhost:{port2}"
    assert not accepts(f"127.0.0.1:{port2}")


def test_07_toggle_accepting_and_port_zero_sticks(api, toxi, echo):
    created = api.create("tog", echo.address, listen="127.0.0.1:0")
    listen = created["listen"]
    assert not listen.endswith(":0") and accepts(listen)
    proxy = toxi.get_proxy("tog")
    proxy.disable()
    assert not accepts(listen)
    proxy.enable()
    assert accepts(listen)
    assert api.get("/proxies/tog").json()["listen"] == listen
    proxy.disable()
    assert not accepts(listen)
    r = api.post("/proxies/tog", json={"enabled": True})
    assert r.status_code == 200 and r.json()["listen"] == listen and accepts(listen)


# -- 8: delete -------------------------------------------------------------------------------
def test_08_delete(api, echo):
    listen = api.create("del", echo.address)["listen"]
    r = api.delete("/proxies/del")
    assert (r.status_code, r.content) == (204, b"")
    assert "Content-Length" not in r.headers
    assert not accepts(listen)
    assert api.get("/proxies").json() == {}
    r = api.delete("/proxies/del")
    assert r.status_code == 404
    assert r.json() == {"error": "proxy not found", "status": 404}


# -- 9: populate -----------------------------------------------------------------------------
def test_09_populate_creates_in_order_and_defaults_enabled(api, echo):
    body = [
        {"name": "one", "listen": "127.0.0.1:0", "upstream": echo.address},
        {"name": "two", "listen": "127.0.0.1:0", "upstream": echo.address},
        {"name": "three", "listen": "127.0.0.1:0", "upstream": echo.address, "enabled": False},
    ]
    r = api.post("/populate", json=body)
    assert r.status_code == 201
    assert r.headers["Content-Type"] == "application/json"
    listed = r.json()["proxies"]
    assert [p["name"] for p in listed] == ["one", "two", "three"]
    assert [p["enabled"] for p in listed] == [True, True, False]
    assert all(p["toxics"] == [] for p in listed)
    assert accepts(listed[0]["listen"]) and accepts(listed[1]["listen"])


def test_09_populate_keeps_identical_proxies_and_replaces_changed_ones(api, echo):
    port = free_port()
    api.create("same", echo.address, listen=f"localhost:{port}")
    api.add_toxic("same", type="latency", attributes={"latency": 5})
    api.create("moved", echo.address)
    api.add_toxic("moved", type="latency")
    api.post("/proxies/same", json={"enabled": False})
    api.post("/proxies/same", json={"enabled": True})
    new_port = free_port()
    r = api.post("/populate", json=[
        {"name": "same", "listen": f"localhost:{port}", "upstream": echo.address, "enabled": False},
        {"name": "moved", "listen": f"127.0.0.1:{new_port}", "upstream": echo.address},
    ])
    assert r.status_code == 201
    same, moved = r.json()["proxies"]
    assert same["listen"] == f"127.0.0.1:{port}" and same["enabled"] is True  # untouched
    assert [t["name"] for t in same["toxics"]] == ["latency_downstream"]
    assert moved["listen"] == f"127.0.0.1:{new_port}" and moved["toxics"] == []


def test_09_populate_validates_every_entry_first(api, echo):
    r = api.post("/populate", json=[
        {"name": "ok", "listen": "127.0.0.1:0", "upstream": echo.address},
        {"listen": "127.0.0.1:0", "upstream": echo.address},
    ])
    assert r.status_code == 400
    assert r.json() == {"error": "missing required field: name at proxy 2", "status": 400, "proxies": None}
    assert r.headers["Content-Type"] == "application/json"
    assert api.get("/proxies").json() == {}
    r = api.post("/populate", json=[{"name": "x", "listen": "127.0.0.1:0"}])
    assert r.json()["error"] == "missing required field: upstream at proxy 1"


def test_09_populate_stops_at_the_first_bind_failure(api, echo):
    holder = api.create("holder", echo.address)
    r = api.post("/populate", json=[
        {"name": "one", "listen": "127.0.0.1:0", "upstream": echo.address},
        {"name": "two", "listen": holder["listen"], "upstream": echo.address},
        {"name": "three", "listen": "127.0.0.1:0", "upstream": echo.address},
    ])
    assert r.status_code == 500
    body = r.json()
    assert body["error"] == f"listen tcp {holder['listen']}: bind: address already in use"
    assert body["status"] == 500
    assert [p["name"] for p in body["proxies"]] == ["one"]
    names = set(api.get("/proxies").json())
    assert names == {"holder", "one"}


def test_09_populate_empty_and_not_an_array(api):
    r = api.post("/populate", json=[])
    assert (r.status_code, r.json()) == (201, {"proxies": None})
    r = api.post("/populate", json={"name": "x"})
    assert r.status_code == 400
    assert r.json()["error"].startswith("bad request body: json: cannot unmarshal object into Go value of type []")


# -- 10-15: toxics ---------------------------------------------------------------------------
def test_10_toxic_defaults_and_echoed_attributes(api, echo):
    api.create("t", echo.address)
    r = api.post("/proxies/t/toxics", json={"type": "latency"})
    assert r.status_code == 200  # 15: not 201
    assert r.content == (
        b'{"attributes":{"latency":0,"jitter":0},"name":"latency_downstream",'
        b'"type":"latency","stream":"downstream","toxicity":1}'
    )
    t = api.add_toxic("t", name="slow", type="latency", stream="upstream", attributes={"latency": 100, "jitter": 10})
    assert t == {"attributes": {"latency": 100, "jitter": 10}, "name": "slow", "type": "latency",
                 "stream": "upstream", "toxicity": 1}
    toxics = api.get("/proxies/t/toxics").json()
    assert [x["name"] for x in toxics] == ["slow", "latency_downstream"]  # upstream first
    assert api.get("/proxies/t").json()["toxics"] == toxics


def test_11_names_are_unique_across_streams(api, echo):
    api.create("t", echo.address)
    api.add_toxic("t", name="a", type="latency")
    api.add_toxic("t", name="b", type="latency")
    r = api.post("/proxies/t/toxics", json={"name": "a", "type": "latency", "stream": "upstream"})
    assert r.status_code == 409
    assert r.json() == {"error": "toxic already exists", "status": 409}
    api.add_toxic("t", type="latency", stream="upstream")
    api.add_toxic("t", type="latency", stream="downstream")
    names = sorted(x["name"] for x in api.get("/proxies/t/toxics").json())
    assert names == ["a", "b", "latency_downstream", "latency_upstream"]


def test_12_invalid_stream_and_type_and_noop(api, toxi, echo):
    api.create("t", echo.address)
    r = api.post("/proxies/t/toxics", json={"type": "latency", "stream": "sideways"})
    assert r.json() == {"error": "stream was invalid, can be either upstream or downstream", "status": 400}
    r = api.post("/proxies/t/toxics", json={"type": "latency", "stream": ""})
    assert r.status_code == 400
    r = api.post("/proxies/t/toxics", json={"type": "packet_loss"})
    assert r.json() == {"error": "invalid toxic type", "status": 400}
    assert api.add_toxic("t", type="noop")["name"] == "noop_downstream"
    with pytest.raises(InvalidToxic):
        toxi.get_proxy("t").add_toxic(type="latency", stream="sideways")
    upper = api.add_toxic("t", type="latency", stream="UPSTREAM")
    assert (upper["name"], upper["stream"]) == ("latency_UPSTREAM", "UPSTREAM")


def test_13_toxicity_round_trip_and_merged_updates(api, echo):
    api.create("t", echo.address)
    t = api.add_toxic("t", type="latency", toxicity=0.2, attributes={"latency": 100, "jitter": 10})
    assert t["toxicity"] == 0.2
    assert b'"toxicity":0.2' in api.get("/proxies/t/toxics/latency_downstream").content
    r = api.patch("/proxies/t/toxics/latency_downstream", json={"attributes": {"latency": 1000}, "toxicity": 0.5})
    assert r.status_code == 200
    assert r.json()["attributes"] == {"latency": 1000, "jitter": 10}
    assert r.json()["toxicity"] == 0.5
    r = api.post("/proxies/t/toxics/latency_downstream", json={"attributes": {"jitter": 3}})
    assert r.json()["toxicity"] == 0.5 and r.json()["attributes"] == {"latency": 1000, "jitter": 3}
    r = api.patch("/proxies/t/toxics/latency_downstream", json={"name": "x", "type": "timeout", "stream": "upstream"})
    assert (r.json()["name"], r.json()["type"], r.json()["stream"]) == ("latency_downstream", "latency", "downstream")
    r = api.patch("/proxies/t/toxics/nope", json={})
    assert r.json() == {"error": "toxic not found", "status": 404}
    r = api.patch("/proxies/nope/toxics/nope", json={})
    assert r.json() == {"error": "proxy not found", "status": 404}


def test_14_remove_toxic_and_reset(api, toxi, echo):
    api.create("t", echo.address)
    api.add_toxic("t", type="latency")
    api.add_toxic("t", type="timeout", stream="upstream")
    r = api.delete("/proxies/t/toxics/latency_downstream")
    assert (r.status_code, r.content) == (204, b"")
    assert [x["name"] for x in api.get("/proxies/t/toxics").json()] == ["timeout_upstream"]
    assert api.get("/proxies/t/toxics/latency_downstream").json() == {"error": "toxic not found", "status": 404}
    assert api.delete("/proxies/t/toxics/latency_downstream").status_code == 404
    listen = api.get("/proxies/t").json()["listen"]
    toxi.get_proxy("t").disable()
    assert not accepts(listen)
    r = api.post("/reset")
    assert (r.status_code, r.content) == (204, b"")
    proxy = api.get("/proxies/t").json()
    assert proxy["enabled"] is True and proxy["toxics"] == [] and accepts(listen)


def test_15_status_codes(api, echo):
    r = api.post("/proxies", json={"name": "s", "listen": "127.0.0.1:0", "upstream": echo.address})
    assert r.status_code == 201
    assert api.post("/proxies/s/toxics", json={"type": "noop"}).status_code == 200
    assert api.get("/proxies/s").status_code == 200
    assert api.post("/proxies/s", json={}).status_code == 200
    assert api.delete("/proxies/s/toxics/noop_downstream").status_code == 204
    assert api.delete("/proxies/s").status_code == 204
    assert api.post("/reset").status_code == 204


def test_06_wildcard_listen_is_shown_like_go(api, echo):
    listen = api.create("wild", echo.address, listen="0.0.0.0:0")["listen"]
    assert listen.startswith(("[::]:", "0.0.0.0:"))
    assert accepts("127.0.0.1:" + listen.rsplit(":", 1)[1])


def test_update_upstream_restarts_on_the_same_port_and_closes_live_connections(api, echo):
    from proxy_helpers import EchoServer, connect, recv_exactly

    other = EchoServer(lambda s: s.sendall(b"other"))
    try:
        listen = api.create("u", echo.address)["listen"]
        with connect(listen) as live:
            live.sendall(b"hi")
            assert recv_exactly(live, 2) == b"hi"
            r = api.post("/proxies/u", json={"upstream": other.address})
            assert r.status_code == 200
            assert r.json()["listen"] == listen and r.json()["upstream"] == other.address
            live.settimeout(2)
            assert live.recv(10) == b""  # restarted: the live connection was closed
        with connect(listen) as fresh:
            assert recv_exactly(fresh, 5) == b"other"
        same = api.post("/proxies/u", json={"upstream": other.address, "listen": listen})
        assert same.status_code == 200 and same.json()["enabled"] is True
    finally:
        other.stop()


def test_07_disable_closes_live_connections(api, echo):
    from proxy_helpers import connect, recv_exactly

    listen = api.create("live", echo.address)["listen"]
    with connect(listen) as s:
        s.sendall(b"x")
        assert recv_exactly(s, 1) == b"x"
        api.post("/proxies/live", json={"enabled": False})
        s.settimeout(2)
        try:
            assert s.recv(1) == b""
        except ConnectionResetError:
            pass
