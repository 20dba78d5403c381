"""Helpers for the proxy tests: a `gameday proxy` process, raw HTTP, echo upstreams, sockets."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import os
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass
class ProxyProcess:
    """A running `gameday proxy` subprocess."""

    proc: subprocess.Popen
    url: str
    host: str
    port: int
    log_path: str = ""
    _log: str | None = None

    def stderr_text(self) -> str:
        """What the proxy wrote to stderr (kept in a file: a pipe nobody reads could fill up)."""
        if self._log is not None:
            return self._log
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is None and os.path.exists(self.log_path):
            self._log = self.stderr_text()
            os.unlink(self.log_path)
        return self.proc.returncode


@contextlib.contextmanager
def served_proxy(splice: str | None = None) -> Iterator[ProxyProcess]:
    """A proxy server (proxy metrics on, seeded; GAMEDAY_PROXY_SPLICE=`splice` when given) that must
    exit cleanly, with no traceback, error or warning in its log, when the tests are done with it."""
    env = {"GAMEDAY_PROXY_SPLICE": splice} if splice is not None else {}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        server = start_proxy_process("--proxy-metrics", "--seed", "7")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        yield server
    finally:
        rc = server.stop()
        err = server.stderr_text()
        assert rc == 0, f"proxy exited with {rc}: {err}"
        assert "Traceback" not in err and "Error" not in err and "Warning" not in err, err


def start_proxy_process(*args: str, timeout: float = 15.0) -> ProxyProcess:
    """Start `python -m lab.cli proxy --port 0 ...` and wait for its ready line."""
    cmd = [sys.executable, "-m", "lab.cli", "proxy", "--host", "127.0.0.1", "--port", "0", *args]
    fd, log_path = tempfile.mkstemp(prefix="gameday-proxy-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("gameday proxy: API on "):
        proc.kill()
        proc.wait(5)
        err = open(log_path).read()
        os.unlink(log_path)
        raise RuntimeError(f"proxy did not start (rc={proc.returncode}): {line!r} {err}")
    assert time.monotonic() < deadline
    url = line.strip().rsplit(" ", 1)[1]
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return ProxyProcess(proc, url, host, int(port), log_path)


class Api:
    """Raw HTTP against the control API (a python-requests UA, as the Python client sends)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()

    def request(self, method: str, path: str, **kw) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=10, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.request("POST", path, **kw)

    def patch(self, path: str, **kw) -> requests.Response:
        return self.request("PATCH", path, **kw)

    def delete(self, path: str, **kw) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def create(self, name: str, upstream: str, listen: str = "127.0.0.1:0", **extra) -> dict:
        r = self.post("/proxies", json={"name": name, "listen": listen, "upstream": upstream, **extra})
        assert r.status_code == 201, r.text
        return r.json()

    def add_toxic(self, proxy: str, **body) -> dict:
        r = self.post(f"/proxies/{proxy}/toxics", json=body)
        assert r.status_code == 200, r.text
        return r.json()

    def clear(self) -> None:
        for name in list(self.get("/proxies").json()):
            self.delete(f"/proxies/{name}")


def echo_handler(sock: socket.socket) -> None:
    while True:
        data = sock.recv(65536)
        if not data:
            return
        sock.sendall(data)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock = self.request
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.append(sock)  # type: ignore[attr-defined]
        try:
            self.server.func(sock)  # type: ignore[attr-defined]
        except OSError:
            return


class EchoServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server on 127.0.0.1:<free port> running ``func(sock)`` per connection
    (an echo by default)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, func=echo_handler, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.func = func
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        for c in self.connections:
            try:
                c.close()
            except OSError:
                pass
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect(listen: str, timeout: float = 5.0) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def accepts(listen: str) -> bool:
    """Whether a TCP connect to ``listen`` succeeds."""
    host, port = listen.rsplit(":", 1)
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        return True
    except OSError:
        return False
