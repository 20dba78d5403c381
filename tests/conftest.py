"""Shared fixtures: real PostgreSQL clusters and real embedded stacks under temporary run roots.

    pg_template   the cached, seeded template cluster (built once per machine and schema)
    pg            a private PostgreSQL server for the session, copied from the template
    run_root      a temporary run root (also exported as GAMEDAY_ROOT for CLI subprocesses)
    make_stack    starts LocalStacks with given settings; stops them all at teardown
    gameday       runs the real `gameday` CLI in a subprocess
    docker_engine the Docker engine (a docker SDK client that answered)
    compose_images every image the compose stack needs: the ones `gameday images build` chose, built
                  here (offline, from the OS package mirror) when missing; reused when present
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from lab.stack import pg_template as templates
from lab.stack import postgres, procs
from lab.stack.base import APP_DB, APP_ROLE, SUPERUSER
from lab.stack import image_build, images
from lab.stack.compose import remove_orphans
from lab.stack.config import load_config
from lab.stack.engine import engine
from lab.stack.local import LocalStack
from lab.stack.pgbin import find_pg_bin


@pytest.fixture(scope="session")
def pg_template() -> Path:
    return templates.ensure_template(find_pg_bin())


@dataclass
class PgServer:
    """A running private PostgreSQL server with Arcade's seeded database."""

    cluster: postgres.PgCluster
    pid: int
    secrets: postgres.Secrets

    @property
    def port(self) -> int:
        return self.cluster.port

    @property
    def app_dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={APP_DB} "
            f"user={APP_ROLE} password={self.secrets.app_password}"
        )

    @property
    def admin_dsn(self) -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={APP_DB} "
            f"user={SUPERUSER} password={self.secrets.superuser_password}"
        )

    def admin(self) -> psycopg2.extensions.connection:
        """A superuser connection over the unix socket (autocommit)."""
        return self.cluster.connect(APP_DB)


@contextlib.contextmanager
def running_pg(base: Path, template: Path, **settings: str) -> Iterator[PgServer]:
    """Copy the template under `base` and run it; stop and delete it on every path."""
    home = postgres.cluster_home(base)
    templates.materialise(template, home)
    cluster = postgres.PgCluster(
        pgbin=find_pg_bin(),
        datadir=home / "data",
        sockdir=postgres.socket_dir_for(home, 65535),
        log_path=base / "db.log",
        port=procs.free_port(),
        settings=settings,
    )
    pid = cluster.start()
    try:
        yield PgServer(cluster, pid, postgres.Secrets.load(home / "secrets.json"))
    finally:
        cluster.stop(pid)
        postgres.remove_cluster_home(base)


@pytest.fixture(scope="session")
def pg(tmp_path_factory: pytest.TempPathFactory, pg_template: Path) -> Iterator[PgServer]:
    with running_pg(tmp_path_factory.mktemp("pg"), pg_template, max_connections="60") as server:
        yield server


@pytest.fixture
def run_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "gd"
    monkeypatch.setenv("GAMEDAY_ROOT", str(root))
    return root


@pytest.fixture
def make_stack(run_root: Path) -> Iterator[Callable[..., LocalStack]]:
    started: list[LocalStack] = []

    def make(*overrides: str, name: str | None = None) -> LocalStack:
        stack = LocalStack(name or f"t{uuid.uuid4().hex[:8]}", run_root, load_config(None, list(overrides)))
        started.append(stack)
        stack.up()
        return stack

    yield make
    for stack in started:
        stack.down(purge=True)


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def gameday(run_root: Path) -> Iterator[Callable[..., CliResult]]:
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> CliResult:
        full_env = {**os.environ, "GAMEDAY_ROOT": str(run_root), "COLUMNS": "200", **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "lab.cli", *args],
            capture_output=True, text=True, env=full_env, timeout=timeout,
        )
        return CliResult(proc.returncode, proc.stdout, proc.stderr)

    yield run
    run("down", "--all", "--purge")


@pytest.fixture(scope="session")
def docker_engine():  # type: ignore[no-untyped-def]
    """The Docker engine (a docker SDK client that answered)."""
    client = engine()
    yield client
    client.close()


@pytest.fixture(scope="session")
def compose_images(docker_engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The images `gameday up --stack compose` will use, built here if any is missing."""
    client = docker_engine
    remove_orphans(client)
    chosen = images.chosen()
    needed = ("LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE", "LAB_IMAGE", "LAB_PGBOUNCER_IMAGE")
    if not all(images.present(client, chosen[var]) for var in needed):
        chosen = image_build.build_offline(client).images
    return chosen
