"""The compose file, the Dockerfiles and what the lab tells Compose, checked without an engine."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from lab.stack import debian_mirror, images
from lab.stack.compose.env import arcade_env, compose_env, db_setting_variable, proxy_links
from lab.stack.config import load_config
from lab.stack.ports import SLOTS
from lab.stack.service_config import server_settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
CREDS = {"superuser_password": "su-secret", "app_password": "app-secret"}
PORTS = {"db": 1, "proxy": 2, "proxy.listen": 3, "web": 4, "loadgen": 5, "pooler": 6}


def _env(*overrides: str) -> dict[str, str]:
    return compose_env("team1", Path("/run/team1"), load_config(None, list(overrides)), PORTS, CREDS,
                       images.PUBLIC)


def test_the_image_requirements_carry_the_projects_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = {re.split(r"[<>=!~ ]", dep, maxsplit=1)[0].lower(): dep for dep in project}
    lines = [line.strip() for line in (ROOT / "docker/lab-requirements.txt").read_text().splitlines()]
    wanted = [line for line in lines if line and not line.startswith("#")]
    assert wanted
    for requirement in wanted:
        name = re.split(r"[<>=!~ ]", requirement, maxsplit=1)[0].lower()
        assert pins.get(name) == requirement, f"{requirement} differs from pyproject.toml's {pins.get(name)}"


def test_every_variable_of_the_compose_file_is_set_by_the_lab():
    used = set(re.findall(r"\$\{(LAB_[A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    env = _env("pooler.enabled=true")
    assert used <= set(env), f"not set by compose_env: {sorted(used - set(env))}"
    assert {slot.variable for slot in SLOTS} <= set(env)


def test_the_db_is_told_every_setting_the_one_builder_gives_it():
    text = (ROOT / "docker-compose.yml").read_text()
    for setting in server_settings(load_config(None, []).db):
        assert f"{setting}=${{{db_setting_variable(setting)}" in text, setting


def test_the_stack_settings_reach_the_containers():
    config = load_config(None, ["web.access_mode=per-request", "db.max_connections=25",
                                "web.flags=[broken_leaderboard]", "web.threads=16", "loadgen.rate=8"])
    env = _env("web.access_mode=per-request", "db.max_connections=25", "loadgen.rate=8")
    assert env["LAB_DB_MAX_CONNECTIONS"] == "25" and env["LAB_DB_SHARED_BUFFERS"] == "32MB"
    assert env["LAB_LOADGEN_RATE"] == "8.0" and env["LAB_STACK"] == "team1"
    assert env["LAB_ARCADE_ENV"] == "/run/team1/arcade.env"
    arcade = arcade_env(config)
    assert arcade["ARCADE_ACCESS_MODE"] == "per-request" and arcade["ARCADE_FLAGS"] == "broken_leaderboard"
    assert "--threads 16" in arcade["GUNICORN_CMD_ARGS"]
    assert "host=toxiproxy port=5432 " in arcade["ARCADE_DSN"] and "password" not in arcade["ARCADE_DSN"]
    direct = arcade_env(load_config(None, ["proxy.enabled=false"]))
    assert "host=db port=5432 " in direct["ARCADE_DSN"]
    pooled = arcade_env(load_config(None, ["proxy.enabled=false", "pooler.enabled=true"]))
    assert "host=pgbouncer port=6432 " in pooled["ARCADE_DSN"]


def test_the_shipped_arcade_env_file_holds_every_setting_the_lab_writes():
    shipped = dict(line.split("=", 1) for line in (ROOT / "docker/arcade.env").read_text().splitlines()
                   if line and not line.startswith("#"))
    assert set(shipped) == set(arcade_env(load_config(None, [])))
    assert "password" not in shipped["ARCADE_DSN"]


def test_toxiproxy_sits_in_front_of_the_db_or_pgbouncer_and_of_the_web_tier():
    assert {p["name"]: p["upstream"] for p in proxy_links(False)} == {"postgres": "db:5432", "arcade": "web:8000"}
    assert proxy_links(True)[0]["upstream"] == "pgbouncer:6432"
    shipped = yaml.safe_load((ROOT / "docker/toxiproxy.json").read_text())
    assert shipped == proxy_links(False)


def test_services_have_healthchecks_labels_and_conditions():
    services = COMPOSE["services"]
    assert set(services) == {"db", "seed", "toxiproxy", "web", "loadgen", "pgbouncer", "watchdog"}
    for name, svc in services.items():
        assert svc["labels"]["io.gameday-lab.service"], name
        assert "io.gameday-lab.stack" in svc["labels"], name
        if name not in ("seed", "watchdog"):  # the watchdog answers no port: `up` waits for its first log line
            assert svc["healthcheck"]["test"], name
    assert services["seed"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["web"]["depends_on"]["seed"]["condition"] == "service_completed_successfully"
    assert services["pgbouncer"]["profiles"] == ["pooler"]
    for svc in services.values():  # every published port is on loopback only
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_no_secret_is_baked_into_an_image_or_the_compose_file():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "su-secret" not in text and "change-me" not in text
    for var in ("LAB_DB_SUPERUSER_PASSWORD", "LAB_ARCADE_DB_PASSWORD"):
        assert re.search(r"\$\{" + var + r":\?", text), f"{var} must be required, never defaulted"
    for dockerfile in (ROOT / "docker").glob("*.Dockerfile"):
        assert not re.search(r"(?i)(password|secret)\s*=", dockerfile.read_text()), dockerfile


def test_the_hosts_debian_sources_are_read_in_both_formats():
    sources = debian_mirror.parse_sources([
        ("debian.sources", "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
                           "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                           "Types: deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm\nComponents: main\n\n"
                           "Enabled: no\nTypes: deb\nURIs: http://off.example\nSuites: bookworm\nComponents: main\n"),
        ("sources.list", "deb [arch=amd64] http://security.example/debian-security bookworm-security main contrib\n"
                         "# deb http://commented.example bookworm main\ndeb http://other.example bookworm contrib\n"),
    ])
    assert [(s.uri, s.suite) for s in sources] == [
        ("http://mirror.example/debian", "bookworm"), ("http://mirror.example/debian", "bookworm-updates"),
        ("http://security.example/debian-security", "bookworm-security")]
