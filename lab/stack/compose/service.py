"""Handle on one service of a compose stack: every container of it, through the Docker SDK."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lab.errors import StackError, UsageError
from lab.stack.base import kill_signal

if TYPE_CHECKING:
    from lab.stack.compose.stack import ComposeStack


class ComposeService:
    """One service of a ComposeStack (the Service protocol): docker stop, start, restart, pause, kill."""

    def __init__(self, stack: ComposeStack, name: str):
        self.stack = stack
        self.name = name

    @property
    def _api(self) -> Any:
        return self.stack.client.api

    def _containers(self) -> list[dict[str, Any]]:
        return self.stack.project_api.containers(self.name)

    def stop(self) -> None:
        for c in self._containers():
            if c["State"] == "paused":
                self._api.unpause(c["Id"])
            if c["State"] in ("running", "paused", "restarting"):
                self._api.stop(c["Id"], timeout=10)

    def start(self) -> None:
        containers = self._containers()
        running = [c for c in containers if c["State"] in ("running", "paused")]
        if running and len(running) == len(containers):
            raise UsageError(f"{self.name} is already running ({len(running)} container(s))")
        for c in containers:
            if c["State"] not in ("running", "paused"):
                self._api.start(c["Id"])
        self.stack.await_service(self.name)

    def restart(self) -> None:
        """docker restart; a recreate through Compose when a setting changed since the containers
        were made (a restart is when such settings apply)."""
        if self.stack.stale(self.name):
            self.stack.recreate(self.name)
            return
        for c in self._containers():
            if c["State"] == "paused":
                self._api.unpause(c["Id"])
            self._api.restart(c["Id"], timeout=10)
        self.stack.await_service(self.name)

    def pause(self) -> None:
        """docker pause: every process of the service frozen (cgroup freezer); sockets stay open."""
        running = [c for c in self._containers() if c["State"] == "running"]
        if not running:
            raise StackError(f"{self.name} is stopped; nothing to pause")
        for c in running:
            self._api.pause(c["Id"])

    def resume(self) -> None:
        for c in self._containers():
            if c["State"] == "paused":
                self._api.unpause(c["Id"])

    def kill(self, signal: str = "SIGKILL") -> None:
        """docker kill: the signal to every running container's main process."""
        name = kill_signal(signal)
        running = [c for c in self._containers() if c["State"] == "running"]
        if not running:
            raise StackError(f"{self.name} is stopped; nothing to kill")
        for c in running:
            self._api.kill(c["Id"], signal=name)

    def logs(self, lines: int = 50) -> str:
        return self.stack.logs(self.name, lines)
