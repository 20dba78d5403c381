"""Fixtures for the load generator: a `python -m loadgen` process, stopped on every path."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lab.stack import procs


class Control:
    """A client for one generator's control interface."""

    def __init__(self, address: str):
        self.address = address

    def call(self, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(f"http://{self.address}{path}", data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                payload = resp.read()
                status = resp.status
        except urllib.error.HTTPError as exc:
            payload, status = exc.read(), exc.code
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode()

    def get(self, path: str) -> Any:
        status, body = self.call("GET", path)
        assert status == 200, body
        return body

    def set(self, **body: Any) -> Any:
        status, answer = self.call("POST", "/rate", body)
        assert status == 200, answer
        return answer

    def whole_seconds_after(self, since: float, seconds: int = 300) -> list[dict[str, Any]]:
        """Whole seconds that began after `since` (unix time)."""
        return [s for s in self.get(f"/stats?seconds={seconds}")["seconds"] if s["t"] >= since]


@contextlib.contextmanager
def loadgen_process(target: str, *args: str, log: Path) -> Iterator[tuple[subprocess.Popen[bytes], Control]]:
    """Start the generator as the stack does; SIGTERM it (then kill) on the way out."""
    port = procs.free_port()
    with open(log, "ab") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "loadgen", "--target", target,
                                 "--control", f"127.0.0.1:{port}", *args], stdout=fh, stderr=subprocess.STDOUT)
    try:
        control = Control(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 10
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                control.get("/healthz")
                break
            except (OSError, AssertionError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield proc, control
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def loadgen(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    with contextlib.ExitStack() as stack:
        def start(target: str, *args: str) -> tuple[subprocess.Popen[bytes], Control]:
            return stack.enter_context(loadgen_process(target, *args, log=tmp_path / "loadgen.log"))

        yield start


@pytest.fixture
def control() -> Callable[[str], Control]:
    """A control client for an address (host:port)."""
    return Control
