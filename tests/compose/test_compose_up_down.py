"""`gameday up --stack compose` / `down` through the real CLI on a real Docker engine: Arcade served
from the db container through Toxiproxy, and nothing left behind."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from lab.stack.engine import engine

PROJECT = "com.docker.compose.project"


def _get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=10) as resp:
        return resp.status, resp.read()


def _leftovers(project: str) -> dict[str, list[str]]:
    client = engine()
    label = {"label": f"{PROJECT}={project}"}
    return {
        "containers": [c.name for c in client.containers.list(all=True, filters=label)],
        "networks": [n.name for n in client.networks.list(filters=label)],
        "volumes": [v.name for v in client.volumes.list(filters=label)],
    }


@pytest.fixture
def name() -> str:
    import uuid

    return f"c{uuid.uuid4().hex[:6]}"


def test_up_serves_arcade_from_the_db_container_through_toxiproxy_and_down_leaves_nothing(
        gameday, compose_images, name):
    client = engine()
    volumes_before = {v.name for v in client.volumes.list()}
    up = gameday("up", "--stack", "compose", "--name", name, timeout=300)
    assert up.returncode == 0, up.stderr + up.stdout
    assert "http://127.0.0.1:" in up.stdout

    st = gameday("status", "--name", name, "--json")
    assert st.returncode == 0, st.stderr + st.stdout
    status = json.loads(st.stdout)
    assert status["mode"] == "compose" and status["healthy"] is True
    assert status["db_max_connections"] == 40
    assert {s["name"] for s in status["services"]} == {"db", "proxy", "web", "loadgen"}

    base = status["urls"]["arcade"]
    code, body = _get(base)
    assert code == 200 and b"player" in body.lower()
    code, body = _get(base + "leaderboard?game=tetra&limit=5")
    board = json.loads(body)
    assert code == 200 and [e["rank"] for e in board["entries"]] == [1, 2, 3, 4, 5]

    # the rows come from the db container, and Arcade's sessions come from the Toxiproxy container
    project = f"gameday-{name}"
    containers = {c.labels["com.docker.compose.service"]: c for c in
                  client.containers.list(filters={"label": f"{PROJECT}={project}"})}
    assert {"db", "toxiproxy", "web", "loadgen"} <= set(containers)
    proxy_ip = next(iter(containers["toxiproxy"].attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    sql = gameday("sql", "--name", name,
                  "SELECT DISTINCT host(client_addr) FROM pg_stat_activity WHERE usename = 'arcade'")
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.split() == [proxy_ip]
    players = gameday("sql", "--name", name, "SELECT count(*) FROM players")
    assert int(players.stdout.strip()) >= 10_000
    proxies = json.loads(_get(status["urls"]["toxiproxy"] + "/proxies")[1])
    assert proxies["postgres"]["upstream"] == "db:5432" and proxies["postgres"]["enabled"] is True
    for svc in ("db", "web", "toxiproxy"):
        assert containers[svc].labels["io.gameday-lab.stack"] == name
    stats = json.loads(gameday("status", "--name", name, "--json", "--stats").stdout)["stats"]
    # db, toxiproxy, web x2, loadgen, and the fault watchdog
    assert len(stats) == 6 and all(s["mem_mb"] > 0 for s in stats.values())
    assert any(n.endswith("_watchdog_1") for n in stats)

    local = gameday("up", "--name", name)  # the same name on the embedded stack: refused, nothing changed
    assert local.returncode == 2 and f"stack '{name}' is already up on the compose stack" in local.stderr
    assert json.loads(gameday("status", "--name", name, "--json").stdout)["mode"] == "compose"

    down = gameday("down", "--name", name, timeout=180)
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    assert _leftovers(project) == {"containers": [], "networks": [], "volumes": []}
    new = {v.name for v in client.volumes.list()} - volumes_before  # other teams' stacks may come and go
    assert not {v for v in new if v.startswith(project) or re.fullmatch(r"[0-9a-f]{64}", v)}  # nor anonymous ones

    again = gameday("down", "--name", name)
    assert again.returncode == 0 and "was not running" in again.stdout


def test_keep_data_keeps_the_database_volume_and_only_it(gameday, compose_images, name):
    client = engine()
    volumes_before = {v.name for v in client.volumes.list()}
    project = f"gameday-{name}"
    try:
        assert gameday("up", "--stack", "compose", "--name", name, timeout=300).returncode == 0
        assert gameday("sql", "--name", name, "CREATE TABLE keepme (x int)").returncode == 0
        down = gameday("down", "--name", name, "--keep-data", timeout=180)
        assert down.returncode == 0, down.stderr
        left = _leftovers(project)
        assert left == {"containers": [], "networks": [], "volumes": [f"{project}_db-data"]}
        new = {v.name for v in client.volumes.list()} - volumes_before  # other teams' stacks may come and go
        assert {v for v in new if v.startswith(project) or re.fullmatch(r"[0-9a-f]{64}", v)} == {f"{project}_db-data"}

        again = gameday("up", "--stack", "compose", "--name", name, timeout=300)
        assert again.returncode == 0, again.stderr
        kept = gameday("sql", "--name", name, "SELECT count(*) FROM keepme")
        assert kept.returncode == 0 and kept.stdout.strip() == "0", kept.stderr
        assert gameday("down", "--name", name, "--keep-data", timeout=180).returncode == 0
        assert _leftovers(project)["volumes"] == [f"{project}_db-data"]
    finally:  # --all finds the stack by its kept volume
        gameday("down", "--all", "--purge", timeout=180)
    assert _leftovers(project) == {"containers": [], "networks": [], "volumes": []}


def test_a_stack_whose_run_directory_is_gone_is_removed_as_an_orphan(compose_images, tmp_path, name):
    import shutil

    from lab.stack.compose import ComposeStack, remove_orphans

    root = tmp_path / "gone"
    stack = ComposeStack(name, root)
    stack.up()
    try:
        shutil.rmtree(root)  # a temporary run root deleted while its stack ran
        assert f"gameday-{name}" in remove_orphans(engine())
        assert _leftovers(f"gameday-{name}") == {"containers": [], "networks": [], "volumes": []}
    finally:
        if root.exists():
            stack.down(purge=True)
