"""A private PostgreSQL cluster for one stack: created from a cached template, started, stopped.

    first use:  initdb -> start -> roles + database + Arcade schema and seed -> stop -> cache
    every up:   copy the cached template (or reuse the stack's own data dir) -> start

The template is cached per server version and Arcade schema fingerprint (LAB_CACHE_DIR, default
~/.cache/gameday-lab), so a new stack costs a directory copy instead of initdb and seeding.
As root, the server runs as an unprivileged account (postgres, or a `gameday` system user).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from typing import Any

import psycopg2
import psycopg2.extensions

from lab.errors import StackError, StartupTimeout, UsageError
from lab.stack import procs
from lab.stack.pgbin import PgBin

SUPERUSER = "gameday"
APP_ROLE = "arcade"
APP_DB = "arcade"
TEMPLATE_FORMAT = "2"
SOCKET_PATH_MAX = 100
SYSTEM_BASE = Path("/var/lib/gameday-lab")
OWNER_FILE = ".gameday-owner"  # in a relocated cluster's home: the run dir link that points at it

HBA = """\
# gameday-lab: the admin connects through the private unix socket; Arcade over TCP with a password.
local   all   all                      trust
host    all   all   127.0.0.1/32       scram-sha-256
"""

# Small WAL: every stack copies the template, and a lab cluster needs no replication.
CONF = """
# gameday-lab
wal_level = minimal
max_wal_senders = 0
min_wal_size = 4MB
max_wal_size = 64MB
"""


@dataclass(frozen=True)
class Secrets:
    """Passwords of the cluster's two roles (kept beside the data dir, never in images or logs)."""

    superuser_password: str
    app_password: str

    @classmethod
    def load(cls, path: Path) -> Secrets:
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"superuser_password": self.superuser_password, "app_password": self.app_password}))
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
        _own(self.sockdir, mode=0o700)
        stale = self.datadir / "postmaster.pid"
        if stale.exists() and not procs.alive(_pid_from_file(stale)):
            stale.unlink()
        pid = procs.spawn(self.argv(), self.log_path, env=_pg_env(), user=self.os_user, cwd=self.datadir)
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
            pid = _pid_from_file(self.datadir / "postmaster.pid")
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


def _pg_env() -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "TZ")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.setdefault("LANG", "C.UTF-8")
    return env


def _pid_from_file(path: Path) -> int | None:
    try:
        return int(path.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _own(path: Path, mode: int) -> None:
    """Create `path` owned by the service account with `mode` (a no-op for ownership when not root)."""
    path.mkdir(parents=True, exist_ok=True)
    account = procs.service_user()
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)
    path.chmod(mode)


def _chown_tree(path: Path) -> None:
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


def _system_dir(*parts: str) -> Path:
    """A root-owned, world-traversable directory under SYSTEM_BASE."""
    path = SYSTEM_BASE.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    for p in [path, *path.parents]:
        if p == SYSTEM_BASE.parent:
            break
        p.chmod(0o755)
    return path


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
    clusters = _system_dir("clusters")
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


# --- the cached template ---------------------------------------------------------------------


def cache_root() -> Path:
    """LAB_CACHE_DIR, else ~/.cache/gameday-lab, else (as root with a closed home) /var/lib/gameday-lab/cache."""
    explicit = os.environ.get("LAB_CACHE_DIR")
    if explicit:
        return Path(explicit).absolute()
    home = Path.home() / ".cache" / "gameday-lab"
    return home if reachable(home) else _system_dir("cache")


def arcade_fingerprint() -> str:
    """Changes whenever Arcade's schema or seed code changes, so the template is rebuilt."""
    import arcade.seed

    digest = hashlib.sha256(TEMPLATE_FORMAT.encode())
    pkg = Path(arcade.seed.__file__).parent
    for name in sorted(p.name for p in pkg.iterdir() if p.suffix in {".sql"} or p.name == "seed.py"):
        digest.update(name.encode())
        digest.update((pkg / name).read_bytes())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_template(pgbin: PgBin, progress=print) -> Path:  # type: ignore[no-untyped-def]
    """The cached, seeded template cluster for this server version and Arcade schema (built once)."""
    root = cache_root()
    target = root / f"pg{pgbin.version}-{arcade_fingerprint()}"
    if (target / "data" / "PG_VERSION").exists():
        return target
    if not reachable(root):
        raise UsageError(
            f"LAB_CACHE_DIR={root}: the PostgreSQL account cannot enter this directory; "
            "choose a world-traversable one (e.g. under /var/tmp)"
        )
    with _locked(root / ".template.lock"):
        if (target / "data" / "PG_VERSION").exists():
            return target
        building = Path(tempfile.mkdtemp(prefix="build-", dir=root))
        building.chmod(0o755)
        try:
            _build_template(pgbin, building, progress)
            os.rename(building, target)
            for stale in root.glob(f"pg{pgbin.version}-*"):
                if stale != target:  # an older schema's template: stacks hold their own copies
                    shutil.rmtree(stale, ignore_errors=True)
        finally:
            if building.exists():
                shutil.rmtree(building, ignore_errors=True)
    return target


def _build_template(pgbin: PgBin, where: Path, progress) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    progress("initialising a PostgreSQL cluster (first run only) ...")
    datadir = where / "data"
    _own(datadir, mode=0o700)
    account = procs.service_user()
    pwfile = where / "pwfile"
    creds = Secrets(superuser_password=secrets.token_urlsafe(18), app_password=secrets.token_urlsafe(18))
    pwfile.write_text(creds.superuser_password + "\n")
    if account is not None:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    result = subprocess.run(
        [
            pgbin.tool("initdb"), "-D", str(datadir), "-U", SUPERUSER, "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync", "--wal-segsize=1",
        ],
        capture_output=True, text=True, user=account.pw_name if account else None, env=_pg_env(),
    )
    pwfile.unlink()
    if result.returncode != 0:
        raise StackError(f"initdb failed: {(result.stderr or result.stdout).strip().splitlines()[-1]}")
    (datadir / "pg_hba.conf").write_text(HBA)
    with open(datadir / "postgresql.conf", "a") as conf:
        conf.write(CONF)
    if account is not None:
        os.chown(datadir / "pg_hba.conf", account.pw_uid, account.pw_gid)
    creds.save(where / "secrets.json")

    cluster = PgCluster(
        pgbin=pgbin, datadir=datadir, sockdir=Path(tempfile.mkdtemp(prefix="gd-tpl-")),
        log_path=where / "build.log", port=procs.free_port(), settings={"fsync": "off"},
    )
    pid = cluster.start()
    try:
        progress("creating Arcade's schema and seed data ...")
        with contextlib.closing(cluster.connect("postgres")) as admin:
            with admin.cursor() as cur:
                cur.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD %s", (creds.app_password,))
                cur.execute(f"CREATE DATABASE {APP_DB} OWNER {APP_ROLE}")
        from arcade.seed import install

        app = psycopg2.connect(host=str(cluster.sockdir), port=cluster.port, dbname=APP_DB, user=APP_ROLE)
        try:
            install(app)
        finally:
            app.close()
        with contextlib.closing(cluster.connect(APP_DB)) as admin, admin.cursor() as cur:
            cur.execute("CHECKPOINT")
            cur.execute("CHECKPOINT")  # a second one lets the first's WAL segments go
    finally:
        cluster.stop(pid)
        shutil.rmtree(cluster.sockdir, ignore_errors=True)
    progress(f"template cluster ready in {time.monotonic() - started:.1f} s")


def materialise(template: Path, pg_dir: Path) -> None:
    """Give a stack its own cluster: a copy of the template's data dir and secrets."""
    pg_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(template / "data", pg_dir / "data", symlinks=True)
    shutil.copy2(template / "secrets.json", pg_dir / "secrets.json")
    _chown_tree(pg_dir / "data")
    (pg_dir / "data").chmod(0o700)
