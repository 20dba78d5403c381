"""Bad input gets Toxiproxy's status and error text, and the server keeps serving other proxies."""

from __future__ import annotations

import pytest
from proxy_helpers import connect, recv_exactly

I64 = "of type int64"


@pytest.mark.parametrize(
    "body, status, error",
    [
        (b"", 400, "bad request body: EOF"),
        (b"{", 400, "bad request body: unexpected EOF"),
        (b'{"name":}', 400, "bad request body: invalid character '}' looking for beginning of value"),
        (b"nope", 400, "bad request body: invalid character 'o' in literal null (expecting 'u')"),
        (b"xyz", 400, "bad request body: invalid character 'x' looking for beginning of value"),
        (b'{"name": 5, "upstream": "x:1"}', 400,
         "bad request body: json: cannot unmarshal number into Go struct field Proxy.name of type string"),
        (b'{"name": "a", "upstream": "x:1", "enabled": "yes"}', 400,
         "bad request body: json: cannot unmarshal string into Go struct field Proxy.enabled of type bool"),
        (b"[]", 400, "bad request body: json: cannot unmarshal array into Go value of type toxiproxy.Proxy"),
        (b'{"name": "a", "upstream": "x:1", "listen": "nocolon"}', 500,
         "listen tcp: address nocolon: missing port in address"),
    ],
)
def test_proxy_create_bad_bodies(api, body, status, error):
    r = api.post("/proxies", data=body)
    assert r.status_code == status
    assert r.json() == {"error": error, "status": status}
    assert api.get("/proxies").json() == {}


@pytest.mark.parametrize(
    "body, status, error",
    [
        (b"", 400, "bad request body: EOF"),
        (b'{"type": "latency", "attributes": {"latency": "100"}}', 400,
         f"bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency {I64}"),
        (b'{"type": "latency", "attributes": {"latency": 100.0}}', 400,
         f"bad request body: json: cannot unmarshal number 100.0 into Go struct field "
         f"LatencyToxic.attributes.latency {I64}"),
        (b'{"type": "latency", "attributes": {"latency": 1e3}}', 400,
         f"bad request body: json: cannot unmarshal number 1e3 into Go struct field LatencyToxic.attributes.latency {I64}"),
        (b'{"type": "slicer", "attributes": {"average_size": "1"}}', 400,
         "bad request body: json: cannot unmarshal string into Go struct field "
         "SlicerToxic.attributes.average_size of type int"),
        (b'{"type": "latency", "toxicity": "high"}', 400,
         "bad request body: json: cannot unmarshal string into Go struct field ToxicWrapper.toxicity of type float32"),
        (b'{"type": "latency", "stream": "sideways"}', 400,
         "stream was invalid, can be either upstream or downstream"),
        (b'{"type": "packet_loss"}', 400, "invalid toxic type"),
        (b'{"stream": "upstream"}', 400, "invalid toxic type"),
        # Where Toxiproxy accepts a value and then misbehaves or crashes, we answer 400:
        (b'{"type": "bandwidth", "attributes": {"rate": -1}}', 400,
         "invalid attribute value: bandwidth: rate must not be negative (0 stalls the stream)"),
        (b'{"type": "slicer", "attributes": {"average_size": 0}}', 400,
         "invalid attribute value: slicer: average_size must be at least 1"),
        (b'{"type": "slicer"}', 400, "invalid attribute value: slicer: average_size must be at least 1"),
        (b'{"type": "latency", "attributes": {"jitter": -10}}', 400,
         "invalid attribute value: latency: jitter must not be negative"),
    ],
)
def test_toxic_create_bad_bodies(api, echo, body, status, error):
    api.create("t", echo.address)
    r = api.post("/proxies/t/toxics", data=body)
    assert r.status_code == status
    assert r.json() == {"error": error, "status": status}
    assert api.get("/proxies/t/toxics").json() == []


def test_toxic_update_bad_bodies_leave_the_toxic_as_it_was(api, echo):
    api.create("t", echo.address)
    before = api.add_toxic("t", type="latency", attributes={"latency": 10})
    for body, error in [
        (b"{", "bad request body: unexpected EOF"),
        (b'{"attributes": {"latency": "20"}}',
         f"bad request body: json: cannot unmarshal string into Go struct field LatencyToxic.attributes.latency {I64}"),
        (b'{"attributes": {"latency": -1}}', "invalid attribute value: latency: latency must not be negative"),
    ]:
        r = api.patch("/proxies/t/toxics/latency_downstream", data=body)
        assert (r.status_code, r.json()["error"]) == (400, error)
    assert api.get("/proxies/t/toxics/latency_downstream").json() == before


def test_unknown_keys_case_and_null_are_go_like(api, echo):
    r = api.post("/proxies", json={"NAME": "c", "Upstream": echo.address, "listen": "127.0.0.1:0",
                                   "enabled": None, "extra": [1, 2]})
    assert r.status_code == 201
    assert r.json()["name"] == "c" and r.json()["enabled"] is True
    t = api.add_toxic("c", type="latency", attributes=None)
    assert t["attributes"] == {"latency": 0, "jitter": 0}
    t = api.add_toxic("c", name="x", type="latency", attributes={"latency": 5, "bogus": "ignored"})
    assert t["attributes"] == {"latency": 5, "jitter": 0}


def test_bad_input_never_disturbs_other_proxies(api, echo):
    good = api.create("good", echo.address)["listen"]
    with connect(good) as s:
        api.post("/proxies", data=b"{")
        api.post("/proxies", json={"name": "clash", "listen": good, "upstream": echo.address})
        api.post("/proxies/good/toxics", data=b'{"type": "bandwidth", "attributes": {"rate": -5}}')
        api.post("/proxies/good/toxics", data=b'{"type": "nope"}')
        api.post("/populate", data=b"[{")
        api.post("/proxies/good", data=b'{"listen": 5}')
        for i in range(3):
            s.sendall(b"still here")
            assert recv_exactly(s, 10) == b"still here"
    assert api.get("/proxies/good").json()["enabled"] is True
    with connect(good) as s2:
        s2.sendall(b"new")
        assert recv_exactly(s2, 3) == b"new"


def test_proxy_update_bind_failure_is_500_and_proxy_stays_disabled(api, echo):
    holder = api.create("holder", echo.address)["listen"]
    api.create("mover", echo.address)
    r = api.post("/proxies/mover", json={"listen": holder})
    assert r.status_code == 500
    assert r.json()["error"] == f"listen tcp {holder}: bind: address already in use"
    assert api.get("/proxies/mover").json()["enabled"] is False
    assert api.get("/proxies/holder").json()["enabled"] is True
