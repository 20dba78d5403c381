"""Bad input to `gameday up`: one line naming the fix, exit code 2, nothing half-started."""

from __future__ import annotations

import socket

import psutil
import pytest

pytestmark = pytest.mark.integration


def _our_processes(run_root) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if str(run_root) in " ".join(proc.info["cmdline"] or []) or str(run_root) in (proc.info["cwd"] or ""):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "web.acces_mode=pool"], "web.acces_mode: unknown key; did you mean 'access_mode'?"),
        (["--set", "db.max_conections=5"], "db.max_conections: unknown key; did you mean 'max_connections'?"),
        (["--set", "web.access_mode=sometimes"], "web.access_mode: input should be 'pool' or 'per-request'"),
        (["--set", "db.max_connections=zero"], "db.max_connections: input should be a valid integer"),
        (["--name", "Bad Name"], "--name 'Bad Name': use 1-32 lowercase letters"),
    ],
)
def test_bad_config(gameday, run_root, args, expected):
    line = _one_line_error(gameday("up", *args))
    assert expected in line
    assert not _our_processes(run_root)
    assert not list(run_root.glob("*/state.json"))


def test_unknown_key_in_config_file(gameday, run_root, tmp_path):
    cfg = tmp_path / "lab.yaml"
    cfg.write_text("web:\n  workers: 2\n  thread: 4\n")
    line = _one_line_error(gameday("up", "--config", str(cfg)))
    assert f"{cfg}: web.thread: unknown key; did you mean 'threads'?" in line


def test_port_in_use(gameday, run_root):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        line = _one_line_error(gameday("up", "--set", f"web.port={port}"))
        assert f"web.port: port {port} on 127.0.0.1 is already in use" in line
        assert "set it to 0 for a free port" in line
    finally:
        holder.close()
    assert not _our_processes(run_root)


def test_missing_postgres_binaries(gameday, run_root, tmp_path):
    line = _one_line_error(gameday("up", env={"LAB_PG_BIN": str(tmp_path / "nowhere")}))
    assert "no PostgreSQL server binaries" in line and "apt-get install postgresql" in line
    assert not _our_processes(run_root)


def test_second_up_of_the_same_name(gameday, run_root):
    assert gameday("up", "--name", "twice").returncode == 0
    before = {p.pid for p in _our_processes(run_root)}
    line = _one_line_error(gameday("up", "--name", "twice"))
    assert "stack 'twice' is already up" in line and "gameday down --name twice" in line
    assert {p.pid for p in _our_processes(run_root)} == before
    assert gameday("status", "--name", "twice").returncode == 0


def test_commands_on_a_stack_that_is_not_up(gameday):
    line = _one_line_error(gameday("status", "--name", "ghost"))
    assert "stack 'ghost' is not up" in line and "gameday up --name ghost" in line


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe binary", b'{"name": "x"}', b"[]"])
def test_an_unreadable_state_file_names_the_way_out_and_down_purge_takes_it(gameday, run_root, content):
    stack_dir = run_root / "broken"
    stack_dir.mkdir(parents=True)
    (stack_dir / "state.json").write_bytes(content)
    line = _one_line_error(gameday("status", "--name", "broken"))
    assert "state.json: unreadable stack state" in line and "gameday down --name broken --purge" in line
    purged = gameday("down", "--name", "broken", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert not stack_dir.exists()
