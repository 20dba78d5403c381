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
import fcntl
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# Run with several workers (`make test`: pytest -n N --dist loadgroup --no-loadscope-reorder),
# each test file is one group, sent whole to one worker, so its module- and package-scoped stacks
# are made once; a test may name a group of its own (`xdist_group`, as each scenario's verify
# does) to run beside the rest of its file.
#
# Tests marked `cpu_slot` either drive Arcade into overload (a surge drill, a load test) or measure
# timings a starved CPU would spoil (the proxy's toxics); on a 2-core machine three of them at once
# starve each other and their figures stop meaning anything. Across every worker of one run they
# share CPU_SLOTS slots (a lock file each under the run's shared temporary directory); a test takes
# one, or `cpu_slot(weight=2)` all of them; the other workers go on with the rest meanwhile.
# Groups are handed out in LONGEST_FIRST's order: long ones first so none starts last, slot-taking
# and other groups in turn so a worker seldom waits for a slot.
CPU_SLOTS = int(os.environ.get("LAB_TEST_CPU_SLOTS", "2"))
LONGEST_FIRST = (  # measured with `--durations=0`; groups not named here come after, in file order
    "verify-march-2023-corrective-measures",
    "tests/stack/test_conformance.py",
    "verify-flagsmith-2024-health-check-churn",
    "tests/faults/test_watchdog_kinds.py",
    "tests/runner/test_event.py",
    "tests/runner/test_halt_recover.py",
    "verify-joyent-2015-lock-queue",
    "tests/compose/test_compose_up_down.py",
    "verify-github-2018-cross-country-latency",
    "tests/compose/test_compose_faults.py",
    "verify-march-2023-db-overload",
    "tests/compose/test_toolbox.py",
    "verify-flagsmith-2023-migration-lock",
    "tests/actions/test_act.py",
    "verify-pydis-2020-connection-surge",
    "tests/stack/test_up_down.py",
    "tests/verify/test_verify_compose.py",
    "tests/faults/test_faults.py",
    "tests/runner/test_march.py",
    "tests/stack/test_bad_input.py",
    "tests/verify/test_verify_cli.py",
    "tests/compose/test_two_teams.py",
    "tests/monitor/test_monitor_live.py",
    "tests/runner/test_cli.py",
    "tests/catalog/test_corrective_measures.py",
    "tests/runner/test_drill_reads_timeline.py",
    "tests/console/test_team_replay.py",
    "tests/faults/test_watchdog.py",
    "tests/timeline/test_one_act_every_channel.py",
    "tests/runner/test_drill_end.py",
    "tests/console/test_forms.py",
    "tests/runner/test_restart_in_shell.py",
    "tests/runner/test_halt_all.py",
    "tests/timeline/test_observers.py",
    "tests/compose/test_compose_march.py",
    "tests/stack/test_services.py",
    "tests/report/test_drill_report.py",
    "tests/compose/test_compose_bad_input.py",
    "tests/loadgen/test_loadgen_live.py",
    "tests/console/test_under_surge.py",
    "tests/proxy/test_proxy_datapath.py",
    "tests/test_inputs.py",
    "tests/runner/test_variants_drill.py",
    "tests/compose/test_compose_watchdog.py",
    "tests/proxy/test_proxy_fastpath.py",
    "tests/cli/test_scriptable.py",
    "tests/cli/test_completion.py",
    "tests/report/test_hostile_text.py",
)


def _group(item: pytest.Item, root: Path) -> str:
    for mark in item.iter_markers("xdist_group"):
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    try:
        return str(Path(str(item.fspath)).relative_to(root))
    except ValueError:
        return str(item.fspath)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist: every test in its file's group unless it names its own, and the groups in
    LONGEST_FIRST's order (a stable sort: each file keeps its order). A run in one process keeps
    pytest's order."""
    if not hasattr(config, "workerinput"):
        return
    root = Path(str(config.rootpath))
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    for item in items:
        if not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(_group(item, root)))
    items.sort(key=lambda item: rank.get(_group(item, root), len(rank)))


@contextlib.contextmanager
def cpu_slots(shared: Path, slots: int, weight: int = 1) -> Iterator[None]:
    """Hold `weight` of the `slots` lock files under `shared` while the block runs (waits for them).

    Weight 1 takes whichever slot is free; a heavier test takes slots 0, 1, ... in order, waiting
    on each (the kernel wakes a waiting flock first, so light tests polling for a free slot do not
    starve it)."""
    shared.mkdir(parents=True, exist_ok=True)
    held: list[Any] = []
    try:
        if weight >= slots:
            for n in range(slots):
                fh = open(shared / f"cpu-slot-{n}.lock", "w")
                held.append(fh)
                fcntl.flock(fh, fcntl.LOCK_EX)
        else:
            while not held:
                for n in range(slots):
                    fh = open(shared / f"cpu-slot-{n}.lock", "w")
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        fh.close()
                        continue
                    held.append(fh)
                    break
                else:
                    time.sleep(0.2)
        yield
    finally:
        for fh in held:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


@pytest.fixture(autouse=True)
def _cpu_slot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A `cpu_slot` test under xdist runs only while it holds its slots (CPU_SLOTS above);
    `@pytest.mark.cpu_slot(weight=2)` takes them all (nothing else loads the machine meanwhile)."""
    mark = request.node.get_closest_marker("cpu_slot")
    if mark is None or not hasattr(request.config, "workerinput"):
        yield
        return
    weight = int(mark.kwargs.get("weight", 1))
    with cpu_slots(tmp_path_factory.getbasetemp().parent / "cpu-slots", CPU_SLOTS, weight):
        yield


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
