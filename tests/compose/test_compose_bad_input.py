"""Bad input in compose mode: no Docker engine, no Compose CLI, a port in use, an image that is
not here. Each is one line naming the fix, exit 2, and nothing is left behind."""

from __future__ import annotations

import socket
import sys
import uuid

import pytest

from lab.stack.engine import engine, engine_answers

PROJECT = "com.docker.compose.project"


def _nothing_of(name: str, run_root) -> None:  # type: ignore[no-untyped-def]
    assert not (run_root / name / "state.json").exists()
    if not engine_answers():
        return
    client = engine()
    label = {"label": f"{PROJECT}=gameday-{name}"}
    assert not client.containers.list(all=True, filters=label)
    assert not client.networks.list(filters=label)
    assert not client.volumes.list(filters=label)


def _one_line_error(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def name() -> str:
    return f"b{uuid.uuid4().hex[:6]}"


def test_no_docker_engine(gameday, run_root, name):
    """Runs everywhere: it needs no engine, it shows what happens without one."""
    result = gameday("up", "--stack", "compose", "--name", name,
                     env={"DOCKER_HOST": f"unix://{run_root}/no-docker.sock"})
    line = _one_line_error(result)
    assert "no Docker engine answers" in line and "systemctl start docker" in line and "--stack local" in line
    _nothing_of(name, run_root)


def test_compose_cli_missing(gameday, run_root, name, tmp_path, docker_engine):
    # a PATH with the docker CLI but without its compose plugin, and no docker-compose
    bindir = tmp_path / "bin"
    bindir.mkdir()
    result = gameday("up", "--stack", "compose", "--name", name, env={"PATH": str(bindir)})
    line = _one_line_error(result)
    assert "no Docker Compose CLI is installed" in line and "apt-get install docker-compose" in line
    _nothing_of(name, run_root)


def test_a_chosen_compose_cli_that_is_not_there(gameday, run_root, name, tmp_path, docker_engine):
    result = gameday("up", "--stack", "compose", "--name", name,
                     env={"PATH": str(tmp_path), "LAB_COMPOSE": "docker compose"})
    line = _one_line_error(result)
    assert "LAB_COMPOSE='docker compose' is not installed" in line
    _nothing_of(name, run_root)


@pytest.mark.parametrize("key", ["db.port", "web.port", "proxy.api_port"])
def test_a_port_in_use(gameday, run_root, name, compose_images, key):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = gameday("up", "--stack", "compose", "--name", name, "--set", f"{key}={port}")
    line = _one_line_error(result)
    assert line == (f"Error: {key}: port {port} on 127.0.0.1 is already in use; "
                    "choose another or set it to 0 for a free port")
    _nothing_of(name, run_root)


def test_an_image_that_is_not_here(gameday, run_root, name, compose_images):
    result = gameday("up", "--stack", "compose", "--name", name, env={"LAB_DB_IMAGE": "gameday-lab/absent:0"})
    line = _one_line_error(result)
    assert "LAB_DB_IMAGE=gameday-lab/absent:0" in line and "gameday images build --offline" in line
    _nothing_of(name, run_root)


def test_an_unknown_kind_of_stack(gameday, name):
    result = gameday("up", "--stack", "kubernetes", "--name", name)
    line = _one_line_error(result)
    assert "'kubernetes' is not one of 'local', 'compose'" in line


def test_commands_on_a_compose_stack_that_is_not_up(gameday, name):
    result = gameday("service", "restart", "db", "--name", name)
    assert result.returncode == 2 and "is not up" in result.stderr


def test_the_compose_cli_is_not_needed_to_import_the_lab():
    """A machine without Docker still runs the embedded stack: nothing imports the SDK eagerly."""
    import subprocess

    code = ("import sys, lab.stack.open, lab.stack.cli, lab.runner.cli, lab.faults.engine; "
            "sys.exit(1 if 'docker' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
