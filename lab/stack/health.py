"""Readiness and health checks, written once for every kind of stack: HTTP, TCP, a command in a container.

    check() -> "healthy" | "unhealthy: <why>"      what `gameday status` shows in its health column
    wait_ready(name, check, gone, logs, timeout)   polls a check until it passes; on failure raises
                                                   with the service's last log lines
"""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from lab.errors import StackError, StartupTimeout

HEALTHY = "healthy"


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (its type's name when it says nothing)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def tcp(host: str, port: int, timeout: float = 1.0) -> str:
    """Healthy when something accepts a TCP connection on host:port."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return HEALTHY
    except OSError as exc:
        return f"unhealthy: {exc.strerror or exc}"


def http(url: str, timeout: float = 2.0) -> str:
    """Healthy when `url` answers 200; otherwise the status and the `error` of a JSON body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return HEALTHY if resp.status == 200 else f"unhealthy: HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        try:
            cause = json.loads(exc.read() or b"{}").get("error", "")
        except (ValueError, AttributeError):
            cause = ""
        return f"unhealthy: HTTP {exc.code}" + (f" {cause}" if cause else "")
    except (OSError, urllib.error.URLError) as exc:
        return f"unhealthy: {getattr(exc, 'reason', exc)}"


def probe(target: str, timeout: float = 2.0) -> str:
    """An `http://...` URL answers 200, or a `tcp://host:port` accepts a connection."""
    if target.startswith("tcp://"):
        host, _, port = target.removeprefix("tcp://").rpartition(":")
        return tcp(host, int(port), timeout)
    return http(target, timeout)


def in_container(client: Any, container_id: str, argv: list[str]) -> bool:
    """A command run inside a container exits 0 (the container's own view of its health)."""
    try:
        result = client.api.exec_create(container_id, argv)
        client.api.exec_start(result["Id"])
        return int(client.api.exec_inspect(result["Id"]).get("ExitCode") or 0) == 0
    except Exception:  # the container is gone or not running: not healthy, whatever the reason
        return False


def wait_ready(name: str, check: Callable[[], str], logs: Callable[[], str], timeout: float = 30.0,
               gone: Callable[[], str | None] = lambda: None, interval: float = 0.02) -> None:
    """Poll `check` until it says healthy. `gone` says why the service can no longer get there
    (its process exited): StackError at once. StartupTimeout after `timeout`; both carry the
    service's last log lines."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        why = gone()
        if why is not None:
            raise StackError(f"{name} exited during start ({why}); last log lines:\n{logs()}")
        last = check()
        if last == HEALTHY:
            return
        time.sleep(interval)
    raise StartupTimeout(f"{name} did not become ready within {timeout:.0f} s ({last}); last log lines:\n{logs()}")
