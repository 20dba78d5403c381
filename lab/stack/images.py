"""Which container images the container kinds of stack run: the public ones by default, or the
ones `gameday images build` made here (lab/stack/image_build.py).

    variable            default (a registry answers)       --offline (built here, no registry)
    LAB_DB_IMAGE        postgres:15                        gameday-lab/db:<hash>   Debian's postgresql-15
    LAB_TOXIPROXY_IMAGE ghcr.io/shopify/toxiproxy:2.12.0   gameday-lab/lab:<hash>  the lab's own proxy
    LAB_IMAGE           gameday-lab/lab (python:3.11-slim) gameday-lab/lab:<hash>  Debian's python3
    LAB_PGBOUNCER_IMAGE gameday-lab/pgbouncer (debian)     gameday-lab/db:<hash>   PgBouncer is in it

The choice is written to `<cache>/images.env`, which the compose stack reads (environment
variables of the same names win).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lab.stack.postgres import cache_root

NAMESPACE = "gameday-lab"
VARIABLES = ("LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE", "LAB_IMAGE", "LAB_PGBOUNCER_IMAGE")
PUBLIC: dict[str, str] = {
    "LAB_DB_IMAGE": "postgres:15",
    "LAB_TOXIPROXY_IMAGE": "ghcr.io/shopify/toxiproxy:2.12.0",
    "LAB_IMAGE": f"{NAMESPACE}/lab:latest",
    "LAB_PGBOUNCER_IMAGE": f"{NAMESPACE}/pgbouncer:latest",
}


def repo_root() -> Path:
    """The checkout holding docker-compose.yml and docker/ (the lab runs from its source tree)."""
    return Path(__file__).resolve().parents[2]


def env_path() -> Path:
    return cache_root() / "images.env"


def chosen() -> dict[str, str]:
    """The image behind each variable: the environment, else the last `images build`, else public."""
    recorded: dict[str, str] = {}
    try:
        for line in env_path().read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() in VARIABLES and value.strip():
                recorded[key.strip()] = value.strip()
    except OSError:
        pass
    return {var: os.environ.get(var) or recorded.get(var) or PUBLIC[var] for var in VARIABLES}


def write_choice(images: dict[str, str]) -> Path:
    path = env_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# written by `gameday images build`; read by `gameday up --stack compose`"]
    lines += [f"{var}={images[var]}" for var in VARIABLES]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)
    return path


def present(client: Any, name: str) -> bool:
    import docker.errors

    try:
        client.images.get(name)
        return True
    except docker.errors.ImageNotFound:
        return False
