"""Handles on the services of a compose stack (every container of one service, through the
Docker SDK), and the health checks the stack and its handles share."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from lab.errors import StackError, UsageError

if TYPE_CHECKING:
    from lab.stack.compose.stack import ComposeStack


class ComposeService:
    """Handle on one service of a compose stack: every container of it, through the Docker SDK."""

    def __init__(self, stack: ComposeStack, name: str):
        self.stack = stack
        self.name = name

    def _containers(self) -> list[dict[str, Any]]:
        return self.stack._raw_containers(self.name)

    def stop(self) -> None:
        for c in self._containers():
            if c["State"] == "paused":
                self.stack.client.api.unpause(c["Id"])
            if c["State"] in ("running", "paused", "restarting"):
                self.stack.client.api.stop(c["Id"], timeout=10)

    def start(self) -> None:
        containers = self._containers()
        running = [c for c in containers if c["State"] in ("running", "paused")]
        if running and len(running) == len(containers):
            raise UsageError(f"{self.name} is already running ({len(running)} container(s))")
        for c in containers:
            if c["State"] not in ("running", "paused"):
                self.stack.client.api.start(c["Id"])
        self.stack._load_state()
        self.stack._await(self.name)

    def restart(self) -> None:
        """docker restart; a recreate through Compose when a setting changed since the containers
        were made (a restart is when such settings apply)."""
        if self.stack.stale(self.name):
            self.stack.recreate(self.name)
            return
        for c in self._containers():
            if c["State"] == "paused":
                self.stack.client.api.unpause(c["Id"])
            self.stack.client.api.restart(c["Id"], timeout=10)
        self.stack._load_state()
        self.stack._await(self.name)

    def pause(self) -> None:
        """docker pause: every process of the service frozen (cgroup freezer); sockets stay open."""
        running = [c for c in self._containers() if c["State"] == "running"]
        if not running:
            raise StackError(f"{self.name} is stopped; nothing to pause")
        for c in running:
            self.stack.client.api.pause(c["Id"])

    def resume(self) -> None:
        for c in self._containers():
            if c["State"] == "paused":
                self.stack.client.api.unpause(c["Id"])

    def kill(self, signal: str = "SIGKILL") -> None:
        for c in self._containers():
            if c["State"] == "running":
                self.stack.client.api.kill(c["Id"], signal=signal)

    def logs(self, lines: int = 50) -> str:
        return self.stack.logs(self.name, lines)


def container_health(containers: list[dict[str, Any]]) -> str:
    if not containers or all(c["State"] in ("exited", "created", "dead") for c in containers):
        return "stopped"
    live = [c for c in containers if c["State"] in ("running", "paused")]
    if live and all(c["State"] == "paused" for c in live):
        return "paused"
    return "healthy"


def exec_ok(client, container_id: str, argv: list[str]) -> bool:  # type: ignore[no-untyped-def]
    try:
        result = client.api.exec_create(container_id, argv)
        client.api.exec_start(result["Id"])
        return int(client.api.exec_inspect(result["Id"]).get("ExitCode") or 0) == 0
    except Exception:
        return False


def tcp_health(port: int, timeout: float = 1.0) -> str:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        return "healthy"
    except OSError as exc:
        return f"unhealthy: {exc.strerror or exc}"


def http_health(url: str, timeout: float = 2.0) -> str:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return "healthy" if resp.status == 200 else f"unhealthy: HTTP {resp.status}"
    except urllib.error.HTTPError as exc:
        try:
            cause = json.loads(exc.read() or b"{}").get("error", "")
        except ValueError:
            cause = ""
        return f"unhealthy: HTTP {exc.code}" + (f" {cause}" if cause else "")
    except (OSError, urllib.error.URLError) as exc:
        return f"unhealthy: {getattr(exc, 'reason', exc)}"


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
