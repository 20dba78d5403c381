"""A private PostgreSQL cluster for one stack: where it lives, started, stopped, connected to.

    <run dir>/pg/  data/ (a copy of the cached template, lab/stack/pg_template.py), secrets.json,
                   sock/ (the private unix socket the lab's superuser connects through)

As root, the server runs as an unprivileged account (postgres, or a `gameday` system user); when
that account cannot reach the run dir (a 0700 home), the cluster lives under /var/lib/gameday-lab
and `<run dir>/pg` links to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import stat
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from typing import Any

import psycopg2
import psycopg2.extensions

from lab.errors import StackError, StartupTimeout
from lab.stack import procs
from lab.stack.base import APP_DB, SUPERUSER
from lab.stack.pgbin import PgBin

SOCKET_PATH_MAX = 100
SYSTEM_BASE = Path("/var/lib/gameday-lab")
OWNER_FILE = ".gameday-owner"  # in a relocated cluster's home: the run dir link that points at it

@dataclass(frozen=True)
class Secrets:
    """Passwords of the cluster's two roles (kept beside the data dir, never in images or logs)."""

    superuser_password: str
    app_password: str
    app_scram: str = ""  # the app role's SCRAM secret, as pg_authid holds it ("": a cluster made before it was kept)

    @classmethod
    def load(cls, path: Path) -> Secrets:
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"superuser_password": self.superuser_password, "app_password": self.app_password,
                                    "app_scram": self.app_scram}))
        path.chmod(0o600)


@dataclass
class PgCluster:
    """One cluster: its data dir, socket dir, port and log, and the account it runs as."""

    pgbin: PgBin
    datadir: Path
    sockdir: Path
    log_path: Path
    port: int
    settings: Mapping[str, str] = field(default_factory=dict)

    @property
    def os_user(self) -> str | None:
        account = procs.service_user()
        return account.pw_name if account else None

    def exists(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def argv(self) -> list[str]:
        args = [
            self.pgbin.tool("postgres"),
            "-D", str(self.datadir.resolve()),
            "-p", str(self.port),
            "-k", str(self.sockdir.resolve()),
            "-c", "listen_addresses=127.0.0.1",
        ]
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        return args

    def start(self, timeout: float = 30.0) -> int:
        """Start the server and wait until it accepts the admin connection; return the postmaster pid."""
        own_dir(self.sockdir, mode=0o700)
        stale = self.datadir / "postmaster.pid"
        if stale.exists() and not procs.alive(pid_from_file(stale)):
            stale.unlink()
        pid = procs.spawn(self.argv(), self.log_path, env=server_env(), user=self.os_user, cwd=self.datadir)
        try:
            self.wait_ready(pid, timeout)
        except BaseException:
            procs.stop_tree(pid, signal.SIGQUIT, grace=5)
            raise
        return pid

    def wait_ready(self, pid: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while time.monotonic() < deadline:
            if not procs.alive(pid):
                raise StackError(
                    f"PostgreSQL exited during start (see {self.log_path}):\n{procs.tail(self.log_path, 15)}"
                )
            try:
                with contextlib.closing(self.connect("postgres", timeout=2)):
                    return
            except psycopg2.OperationalError as exc:
                last_error = str(exc).strip().splitlines()[0] if str(exc).strip() else "no answer"
            time.sleep(0.02)
        raise StartupTimeout(
            f"PostgreSQL did not accept connections within {timeout:.0f} s ({last_error}); "
            f"last log lines:\n{procs.tail(self.log_path, 15)}"
        )

    def stop(self, pid: int | None, grace: float = 15.0) -> None:
        """Fast shutdown (SIGINT); SIGQUIT, then SIGKILL of the group if it does not finish in time."""
        if pid is None:
            pid = pid_from_file(self.datadir / "postmaster.pid")
        if pid is None:
            return
        procs.stop_tree(pid, signal.SIGINT, grace=grace)

    def connect(self, dbname: str = APP_DB, timeout: float = 3) -> psycopg2.extensions.connection:
        """A superuser connection through the private unix socket, using a reserved slot.

        During a connection storm every PGPROC slot can be held for a few milliseconds by
        doomed non-superuser attempts (they take a slot before learning the rest are reserved),
        so "too many clients" is retried until `timeout`: the reserved slot frees up quickly."""
        return connect_retrying(
            dict(host=str(self.sockdir), port=self.port, dbname=dbname, user=SUPERUSER,
                 connect_timeout=max(2, int(timeout)), application_name="gameday-admin"),
            timeout,
        )


def connect_retrying(params: dict[str, Any] | str, timeout: float = 3) -> psycopg2.extensions.connection:
    """An autocommit connection, retrying "too many clients" until `timeout`: during a storm a
    reserved superuser slot is held for a few milliseconds by doomed non-superuser attempts."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            conn = psycopg2.connect(params) if isinstance(params, str) else psycopg2.connect(**params)
        except psycopg2.OperationalError as exc:
            if "too many clients" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
            continue
        conn.autocommit = True
        return conn


def server_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("LANG", "C.UTF-8")
    return env


def pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def own_dir(path: Path, mode: int) -> None:
    """Create `path` owned by the service account with `mode` (a no-op for ownership when not root)."""
    path.mkdir(parents=True, exist_ok=True)
    account = procs.service_user()
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
    path.chmod(mode)


def chown_tree(path: Path) -> None:
    account = procs.service_user()
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in files + dirs:
            os.lchown(os.path.join(root, name), account.pw_uid, account.pw_gid)


def reachable(path: Path) -> bool:
    """Can the server account traverse every existing directory on the way to `path`?"""
    account = procs.service_user()
    if account is None:
        return True
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if st.st_uid == account.pw_uid:
            bit = stat.S_IXUSR
        elif st.st_gid == account.pw_gid:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not st.st_mode & bit:
            return False
    return True


def system_dir(*parts: str) -> Path:
    """A root-owned, world-traversable directory under SYSTEM_BASE."""
    path = SYSTEM_BASE.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *path.parents]:
        if p == SYSTEM_BASE.parent:
            break
        p.chmod(0o755)
    return path


def cache_root() -> Path:
    """LAB_CACHE_DIR, else ~/.cache/gameday-lab, else (as root with a closed home) /var/lib/gameday-lab/cache."""
    explicit = os.environ.get("LAB_CACHE_DIR")
    if explicit:
        return Path(explicit).absolute()
    home = Path.home() / ".cache" / "gameday-lab"
    return home if reachable(home) else system_dir("cache")


def cluster_home(run_dir: Path) -> Path:
    """Where a stack's cluster lives: `<run dir>/pg`, or (as root, when the server account cannot
    reach the run dir, e.g. under a 0700 home) a directory under /var/lib/gameday-lab that
    `<run dir>/pg` links to."""
    link = run_dir / "pg"
    if link.is_symlink():
        return link.resolve()
    if reachable(run_dir):
        return link
    digest = hashlib.sha1(str(run_dir.resolve()).encode()).hexdigest()[:16]
    clusters = system_dir("clusters")
    _collect_orphans(clusters)
    home = clusters / digest
    home.mkdir(exist_ok=True)
    (home / OWNER_FILE).write_text(str(link.absolute()))
    link.symlink_to(home)
    return home


def _collect_orphans(clusters: Path, min_age_s: float = 3600) -> None:
    """Delete relocated clusters whose run dir is gone (a temporary run root removed without
    `down --purge`): their owner link no longer points at them. Young ones are left alone."""
    now = time.time()
    for home in clusters.iterdir():
        try:
            if now - home.stat().st_mtime < min_age_s:
                continue
            owner = Path((home / OWNER_FILE).read_text())
        except OSError:
            continue
        if not (owner.is_symlink() and owner.resolve() == home.resolve()):
            shutil.rmtree(home, ignore_errors=True)


def remove_cluster_home(run_dir: Path) -> None:
    """Delete a relocated cluster (the link target); the run dir itself is the caller's."""
    link = run_dir / "pg"
    if link.is_symlink():
        shutil.rmtree(link.resolve(), ignore_errors=True)
        link.unlink()


def socket_dir_for(pg_home: Path, port: int) -> Path:
    """The unix socket dir: inside the cluster's home unless that path is too long for a socket name."""
    preferred = pg_home / "sock"
    if len(str(preferred / f".s.PGSQL.{port}")) <= SOCKET_PATH_MAX:
        return preferred
    digest = hashlib.sha1(str(pg_home).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"gameday-{digest}"
