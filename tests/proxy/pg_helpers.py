"""A throwaway PostgreSQL cluster for pgbench through the proxy (trust auth, 127.0.0.1 only).

The server runs as the unprivileged ``postgres`` OS user when the tests run as root.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass

from lab.errors import MissingDependencyError
from lab.stack.pgbin import find_pg_bin

try:  # the same discovery the lab uses (LAB_PG_BIN, pg_config, Debian's versioned dirs, PATH)
    PG_BIN = str(find_pg_bin().bindir)
except MissingDependencyError:
    PG_BIN = "/nonexistent"


def _as_postgres() -> dict:
    """Popen arguments that run a command as the ``postgres`` OS user when we are root."""
    if os.geteuid() == 0:
        return {"user": "postgres", "group": "postgres", "extra_groups": [], "cwd": "/"}
    return {}


@dataclass
class Cluster:
    dir: str
    port: int
    proc: subprocess.Popen

    def pgbench(self, *args: str, port: int | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        cmd = [f"{PG_BIN}/pgbench", "-h", "127.0.0.1", "-p", str(port or self.port), "-U", "postgres", *args, "postgres"]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def available() -> bool:
    return os.path.exists(f"{PG_BIN}/initdb") and os.path.exists(f"{PG_BIN}/pgbench")


def start_cluster(port: int, scale: int = 1) -> Cluster:
    """initdb, start, `pgbench -i`; the caller stops it (also on failure here)."""
    base = tempfile.mkdtemp(prefix="gameday-proxy-pg-")
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
    data = os.path.join(base, "data")
    subprocess.run([f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"],
                   check=True, capture_output=True, timeout=120, **_as_postgres())
    log = open(os.path.join(base, "server.log"), "wb")
    proc = subprocess.Popen(
        [f"{PG_BIN}/postgres", "-D", data, "-p", str(port), "-k", base, "-c", "listen_addresses=127.0.0.1",
         "-c", "fsync=off", "-c", "max_connections=40", "-c", "synchronous_commit=off"],
        stdout=log, stderr=subprocess.STDOUT, **_as_postgres(),
    )
    log.close()
    cluster = Cluster(base, port, proc)
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([f"{PG_BIN}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode != 0:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start: {open(os.path.join(base, 'server.log')).read()[-2000:]}")
            time.sleep(0.1)
        init = cluster.pgbench("-i", "-q", "-s", str(scale))
        if init.returncode != 0:
            raise RuntimeError(f"pgbench -i failed: {init.stderr[-2000:]}")
    except BaseException:
        cluster.stop()
        raise
    return cluster
