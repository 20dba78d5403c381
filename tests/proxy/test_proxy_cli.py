"""`gameday proxy`: flags, --config, metrics flags, --seed, clean shutdown; bad input exits 2."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from proxy_helpers import ROOT, EchoServer, accepts, connect, free_port, recv_exactly, start_proxy_process


def run_cli(*args: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab.cli", "proxy", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def assert_usage_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, proc.stderr
    for f in fragments:
        assert f in lines[0], lines[0]


@pytest.mark.parametrize(
    "content, fragments",
    [
        ("[{", ["not valid JSON"]),
        ('{"name": "x"}', ["expected a JSON array"]),
        ('[{"name": "a", "upstream": "127.0.0.1:1"}, {"name": "b"}]', ["[1].upstream: missing required field"]),
        ('[{"upstream": "127.0.0.1:1"}]', ["[0].name: missing required field"]),
        ('[{"name": "a", "upstream": "127.0.0.1:1", "enabled": "yes"}]', ["[0].enabled: expected a boolean"]),
        ('["a"]', ["[0]: expected an object"]),
    ],
)
def test_bad_config_file_is_a_one_line_error(tmp_path, content, fragments):
    cfg = tmp_path / "proxies.json"
    cfg.write_text(content)
    assert_usage_error(run_cli("--port", "0", "--config", str(cfg)), str(cfg), *fragments)


def test_missing_config_file_and_bad_flags(tmp_path):
    assert_usage_error(run_cli("--port", "0", "--config", str(tmp_path / "nope.json")), "nope.json", "no such file")
    bad = run_cli("--port", "not-a-port")
    assert bad.returncode == 2 and "Invalid value for '--port'" in bad.stderr and "Traceback" not in bad.stderr
    assert run_cli("--no-such-flag").returncode == 2


def test_api_port_in_use_exits_2():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert_usage_error(run_cli("--port", str(port)), f"127.0.0.1:{port}", "in use")


def test_config_bind_failure_exits_2(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        cfg = tmp_path / "p.json"
        cfg.write_text(json.dumps([{"name": "db", "listen": f"127.0.0.1:{port}", "upstream": "127.0.0.1:1"}]))
        assert_usage_error(run_cli("--port", "0", "--config", str(cfg)), str(cfg), "address already in use")


def test_config_populates_and_sigterm_closes_everything(tmp_path):
    echo = EchoServer()
    listen = f"127.0.0.1:{free_port()}"
    cfg = tmp_path / "p.json"
    cfg.write_text(json.dumps([
        {"name": "db", "listen": listen, "upstream": echo.address},
        {"name": "off", "listen": "127.0.0.1:0", "upstream": echo.address, "enabled": False},
    ]))
    server = start_proxy_process("--config", str(cfg))
    try:
        proxies = requests.get(server.url + "/proxies", timeout=5).json()
        assert sorted(proxies) == ["db", "off"]
        assert proxies["db"]["enabled"] and not proxies["off"]["enabled"]
        with connect(listen) as s:
            s.sendall(b"hi")
            assert recv_exactly(s, 2) == b"hi"
            start = time.monotonic()
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(5) == 0
            s.settimeout(2)
            try:
                assert s.recv(10) == b""
            except ConnectionResetError:
                pass
            assert time.monotonic() - start < 2
        assert not accepts(listen)
        assert not accepts(f"{server.host}:{server.port}")
    finally:
        server.stop()
        echo.stop()


def test_sigint_also_shuts_down_cleanly():
    server = start_proxy_process()
    try:
        server.proc.send_signal(signal.SIGINT)
        assert server.proc.wait(5) == 0
        assert "Traceback" not in server.stderr_text()
    finally:
        server.stop()


def test_metrics_route_exists_only_with_a_metrics_flag():
    plain = start_proxy_process()
    runtime = start_proxy_process("--runtime-metrics")
    try:
        r = requests.get(plain.url + "/metrics", timeout=5)
        assert (r.status_code, r.text) == (404, "404 page not found\n")
        r = requests.get(runtime.url + "/metrics", timeout=5)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=")
        assert "process_cpu_seconds_total" in r.text
        assert "toxiproxy_proxy_received_bytes_total" not in r.text
        assert len(r.headers["X-Toxiproxy-Request-Id"]) == 20
    finally:
        assert plain.stop() == 0
        assert runtime.stop() == 0


def _rolls(url: str, upstream: str, n: int = 24) -> list[bool]:
    """Which of ``n`` connections a toxicity-0.5 limit_data(0) toxic caught (True = cut off)."""
    s = requests.Session()
    r = s.post(url + "/proxies", json={"name": "r", "listen": "127.0.0.1:0", "upstream": upstream})
    listen = r.json()["listen"]
    s.post(url + "/proxies/r/toxics", json={"type": "limit_data", "toxicity": 0.5, "attributes": {"bytes": 0}})
    out = []
    for _ in range(n):
        with connect(listen) as c:
            c.sendall(b"?")
            c.settimeout(2)
            try:
                out.append(c.recv(1) != b"?")
            except ConnectionResetError:
                out.append(True)
    return out


def test_seed_makes_toxicity_rolls_repeatable():
    echo = EchoServer()
    servers = [start_proxy_process("--seed", "42"), start_proxy_process("--seed", "42"),
               start_proxy_process("--seed", "43")]
    try:
        a, b, c = (_rolls(s.url, echo.address) for s in servers)
        assert a == b
        assert a != c
        assert 0 < sum(a) < len(a)
    finally:
        for s in servers:
            s.stop()
        echo.stop()


def test_toxiproxy_style_single_dash_flags(tmp_path):
    cfg = tmp_path / "tc.json"
    cfg.write_text(json.dumps([{"name": "tc", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:1"}]))
    proc = subprocess.Popen([sys.executable, "-m", "lab.cli", "proxy", "-host=127.0.0.1", "-port=0",
                             f"-config={cfg}", "-proxy-metrics", "-seed", "3"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        assert list(requests.get(url + "/proxies", timeout=5).json()) == ["tc"]
        assert requests.get(url + "/metrics", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    out = run_cli("-version")
    assert out.returncode == 0 and out.stdout.startswith("gameday proxy version 2.12.0+gameday")
