"""The cached template cluster every embedded stack copies: built once per server version and schema.

    first use:  initdb -> start -> roles + database + Arcade schema and seed -> stop -> cache
    every up:   copy the cached template (or reuse the stack's own data dir) -> start

The template is cached per server version and Arcade schema fingerprint (LAB_CACHE_DIR, default
~/.cache/gameday-lab), so a new stack costs a directory copy instead of initdb and seeding.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg2

from lab.errors import StackError, UsageError
from lab.stack import procs
from lab.stack.base import APP_DB, APP_ROLE, SUPERUSER, Progress, no_progress
from lab.stack.pgbin import PgBin
from lab.stack.postgres import PgCluster, Secrets, cache_root, chown_tree, own_dir, reachable, server_env
from lab.stack.scram import scram_secret

TEMPLATE_FORMAT = "3"

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


def ensure_template(pgbin: PgBin, progress: Progress = no_progress) -> Path:
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


def _build_template(pgbin: PgBin, where: Path, progress: Progress) -> None:
    started = time.monotonic()
    progress("initialising a PostgreSQL cluster (first run only) ...")
    datadir = where / "data"
    own_dir(datadir, mode=0o700)
    account = procs.service_user()
    pwfile = where / "pwfile"
    app_password = secrets.token_urlsafe(18)
    creds = Secrets(superuser_password=secrets.token_urlsafe(18), app_password=app_password,
                    app_scram=scram_secret(app_password, os.urandom(16)))
    pwfile.write_text(creds.superuser_password + "\n")
    if account is not None:
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    result = subprocess.run(
        [
            pgbin.tool("initdb"), "-D", str(datadir), "-U", SUPERUSER, "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "-E", "UTF8", "--locale", "C", "--no-sync", "--wal-segsize=1",
        ],
        capture_output=True, text=True, user=account.pw_name if account else None, env=server_env(),
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
                # the secret, not the password: PgBouncer's auth file holds the same string
                cur.execute(f"CREATE ROLE {APP_ROLE} LOGIN PASSWORD %s", (creds.app_scram,))
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
    chown_tree(pg_dir / "data")
    (pg_dir / "data").chmod(0o700)
