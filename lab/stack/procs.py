"""Process and port plumbing for the embedded stack: spawn detached, signal groups, wait, free ports.

A service is its main process and every descendant (gunicorn workers, PostgreSQL backends):
pause, resume and stop reach the whole tree, so nothing is left behind.
"""

from __future__ import annotations

import errno
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import psutil


def spawn(
    argv: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    user: str | None = None,
    cwd: Path | None = None,
) -> int:
    """Start `argv` detached in a new session with stdout+stderr appended to `log_path`; return its pid."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab", buffering=0) as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            user=user,
            close_fds=True,
        )
    # The Popen object is dropped on purpose: the service outlives this command. Children that
    # die while we still run are reaped by `alive()`.
    return proc.pid


def alive(pid: int | None) -> bool:
    """True if `pid` runs and is not a zombie (reaping it if it is our own dead child)."""
    if not pid:
        return False
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def tree(pid: int) -> list[psutil.Process]:
    """The live process `pid` and all its descendants (PostgreSQL backends each start their own
    session, so a process group would miss them; the process tree does not)."""
    try:
        root = psutil.Process(pid)
        members = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []
    return [p for p in members if is_live(p)]


def is_live(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def signal_tree(pid: int, sig: int) -> None:
    """Send `sig` to `pid` first (a stopped parent forks no new children), then to its
    descendants, looking again for any it forked while we were listing them."""
    try:
        root = psutil.Process(pid)
        root.send_signal(sig)
    except psutil.NoSuchProcess:
        return
    seen = {pid}
    for _ in range(3):
        try:
            fresh = [p for p in root.children(recursive=True) if p.pid not in seen and is_live(p)]
        except psutil.NoSuchProcess:
            return
        if not fresh:
            return
        for proc in fresh:
            seen.add(proc.pid)
            try:
                proc.send_signal(sig)
            except psutil.NoSuchProcess:
                pass


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def stop_tree(pid: int, sig: int = signal.SIGTERM, grace: float = 10.0) -> None:
    """Stop a service: resume it if paused, send `sig` to its main process, wait `grace`, then
    SIGKILL whatever of its process tree is still alive."""
    members = tree(pid)
    if not members:
        alive(pid)  # reap a dead child of ours
        return
    for proc in members:  # a paused service cannot handle its stop signal
        try:
            proc.send_signal(signal.SIGCONT)
        except psutil.NoSuchProcess:
            pass
    try:
        members[0].send_signal(sig)
    except psutil.NoSuchProcess:
        pass
    if not wait_until(lambda: not alive(pid), grace):
        try:
            members[0].kill()
        except psutil.NoSuchProcess:
            pass

    def left() -> list[psutil.Process]:  # a zombie counts as stopped: it may not be ours to reap
        return [p for p in members if is_live(p)]

    wait_until(lambda: not left(), grace if members[1:] else 0.1)
    for proc in left():
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    wait_until(lambda: not left(), 5)
    alive(pid)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True if binding `host:port` fails because someone holds it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file (empty if it does not exist)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def service_user() -> pwd.struct_passwd | None:
    """The unprivileged account PostgreSQL runs as when the lab runs as root (None otherwise)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "gameday"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "gameday"],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam("gameday")


def tree_stats(pids: dict[str, int], interval: float = 0.2) -> dict[str, dict[str, float]]:
    """CPU (% of one core, over `interval`) and resident memory (MB) of each named process tree."""
    trees = {name: tree(pid) for name, pid in pids.items()}
    for members in trees.values():
        for proc in members:
            try:
                proc.cpu_percent(None)  # the first call starts the measurement
            except psutil.Error:
                pass
    time.sleep(interval)
    out: dict[str, dict[str, float]] = {}
    for name, members in trees.items():
        cpu = mem = 0.0
        for proc in members:
            try:
                cpu += proc.cpu_percent(None)
                mem += proc.memory_info().rss / 1e6
            except psutil.Error:
                continue
        out[name] = {"cpu_percent": round(cpu, 1), "mem_mb": round(mem, 1)}
    return out


def follow(path: Path, poll: float = 0.2) -> Iterator[str]:
    """New text appended to `path` from now on, as it comes (forever; the caller stops reading)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        while True:
            chunk = fh.read()
            if chunk:
                yield chunk.decode("utf-8", "replace")
            else:
                time.sleep(poll)
