"""Serve the console: a threaded WSGI server in this process (one thread per connection, so a
long-lived event stream never blocks a page), its address and tokens in `console.json` (owner
only), and on every path out the drill it started stopped and that file removed. The terminal
that started it gets the facilitator's token (or a file does); the team token only when asked.

`ConsoleProcess` runs `gameday console` as a child for `gameday drill --console`: in a session of
its own, so Ctrl-C halts the drill but leaves the console up; once the drill has ended the launcher
lets it go on serving for the debrief (History, the report) until `gameday console --stop` or
`gameday down` stops it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server

from lab.console.app import ConsoleConfig, create_app
from lab.console.info import info_path
from lab.console.state import EXTENSION
from lab.errors import PortInUseError, StackError, UsageError
from lab.stack import procs


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def serve(config: ConsoleConfig, host: str, port: int, announce: Callable[[dict[str, Any]], None]) -> None:
    """Serve until SIGINT or SIGTERM; `announce` gets the address and tokens once listening."""
    app = create_app(config)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    listener = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:  # bound here so that a taken port is a one-line usage error (Werkzeug would exit by itself)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(128)
        server = make_server(host, port, app, threaded=True, fd=listener.fileno())
    except OSError as exc:
        raise PortInUseError(f"--port {port}: cannot listen on {host}:{port} ({exc.strerror}); "
                             "pick another port, or --port 0 for a free one") from None
    finally:
        listener.close()  # the server holds its own duplicate of the socket
    server.daemon_threads = True  # type: ignore[attr-defined]  # a threaded server has it
    url = f"http://{host if ':' not in host else f'[{host}]'}:{server.port}/"
    info = {"pid": os.getpid(), "url": url, "stack": config.stack,
            "facilitator_token": config.facilitator_token, "team_token": config.team_token}
    path = info_path(config.root, config.stack)
    path.parent.mkdir(parents=True, exist_ok=True)

    def stop(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the tokens: owner only
        with os.fdopen(fd, "w") as fh:
            json.dump(info, fh)
        announce(info)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        try:
            app.extensions[EXTENSION].close()
        finally:
            try:
                if json.loads(path.read_text()).get("pid") == os.getpid():
                    path.unlink()
            except (OSError, ValueError):
                pass


class ConsoleProcess:
    """`gameday console` as a child process; stopped (and waited for) on exit."""

    def __init__(self, stack: str, root: Path, host: str = "127.0.0.1", port: int = 0, timeout: float = 30.0):
        self.stack, self.root, self.host, self.port, self.timeout = stack, root, host, port, timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> ConsoleProcess:
        log_path = self.root / "console" / self.stack / "console.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        path = info_path(self.root, self.stack)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "lab.cli", "console", "--name", self.stack, "--root", str(self.root),
                 "--host", self.host, "--port", str(self.port), "--quiet"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            ready = procs.wait_until(lambda: self._announced(path) or self.proc.poll() is not None,  # type: ignore[union-attr]
                                     self.timeout, 0.05)
            if not ready or self.proc.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
                raise StackError(f"the console did not start: {' / '.join(tail) or 'no output'} (log: {log_path})")
            self.info = json.loads(path.read_text())
        except BaseException:
            self.stop()
            raise
        return self

    def _announced(self, path: Path) -> bool:
        try:
            return bool(self.proc) and json.loads(path.read_text()).get("pid") == self.proc.pid  # type: ignore[union-attr]
        except (OSError, ValueError):
            return False

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def detach(self) -> None:
        """Leave the console running after this process ends (it is in a session of its own)."""
        self.proc = None

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=70)  # a drill the console started gets up to 60 s to clean up
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
