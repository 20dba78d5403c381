"""Handle on one service of a running embedded stack: its main process and every descendant
(gunicorn workers, PostgreSQL backends), so pause, resume, kill and stop reach them all."""

from __future__ import annotations

import os
import signal as signals
from typing import TYPE_CHECKING

from lab.errors import StackError, UsageError
from lab.stack import procs
from lab.stack.base import kill_signal
from lab.stack.state import ServiceState

if TYPE_CHECKING:
    from lab.stack.local.stack import LocalStack


class LocalService:
    """One service of a LocalStack (the Service protocol)."""

    def __init__(self, stack: LocalStack, name: str):
        self.stack = stack
        self.name = name

    def _svc(self) -> ServiceState:
        return self.stack.loaded().services[self.name]

    def stop(self) -> None:
        self._svc()
        self.stack.stop_service(self.name)

    def start(self) -> None:
        svc = self._svc()
        if procs.alive(svc.pid):
            raise UsageError(f"{self.name} is already running (pid {svc.pid})")
        self.stack.start_service(self.name)

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze every process of the service (SIGSTOP): it holds its sockets but answers nothing."""
        svc = self._svc()
        if svc.pid is None or not procs.alive(svc.pid):
            raise StackError(f"{self.name} is stopped; nothing to pause")
        procs.signal_tree(svc.pid, signals.SIGSTOP)
        self.stack.mark_paused(self.name, True)

    def resume(self) -> None:
        svc = self._svc()
        if svc.pid:
            procs.signal_tree(svc.pid, signals.SIGCONT)
        self.stack.mark_paused(self.name, False)

    def kill(self, signal: str = "SIGKILL") -> None:
        """Send a signal to the service's main process (SIGKILL: to every process of it, as the
        kernel's OOM killer or a crash would leave it)."""
        number = signals.Signals[kill_signal(signal)]
        svc = self._svc()
        if svc.pid is None or not procs.alive(svc.pid):
            raise StackError(f"{self.name} is stopped; nothing to kill")
        if number == signals.SIGKILL:
            procs.signal_tree(svc.pid, number)
        else:
            os.kill(svc.pid, number)

    def logs(self, lines: int = 50) -> str:
        return self.stack.logs(self.name, lines)
