"""The Docker engine and the Compose CLI, found once and checked, with one-line errors that say
what to do.

    engine()      a docker SDK client that has answered a ping (DOCKER_HOST, else the local socket)
    compose_cli() `docker compose` (v2) when the docker CLI has the plugin, else `docker-compose`
                  (v1.29+); LAB_COMPOSE="docker compose" or "docker-compose" chooses one
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from lab.errors import MissingDependencyError

ENGINE_HINT = "start it (`systemctl start docker`), point DOCKER_HOST at one, or use `--stack local`"
COMPOSE_HINT = (
    "install Docker Compose v2 (the `docker compose` plugin) or v1.29+ (`apt-get install docker-compose`), "
    "or use `--stack local`"
)


def engine():  # type: ignore[no-untyped-def]
    """A docker SDK client whose engine answered a ping; MissingDependencyError otherwise."""
    try:
        import docker
        import docker.errors
    except ImportError:  # pragma: no cover - a dependency of the project
        raise MissingDependencyError("the Docker SDK for Python is missing; `pip install docker`") from None
    where = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        reason = _short(exc)
        raise MissingDependencyError(f"no Docker engine answers at {where} ({reason}); {ENGINE_HINT}") from None
    return client


def engine_answers() -> bool:
    """Whether a Docker engine answers (for tests and scripts that only ask)."""
    try:
        engine().close()
        return True
    except MissingDependencyError:
        return False


@dataclass(frozen=True)
class ComposeCli:
    """How to run Compose here: the argv prefix and its major version."""

    argv: tuple[str, ...]
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def __str__(self) -> str:
        return " ".join(self.argv)


@functools.lru_cache(maxsize=None)
def _probe(argv: tuple[str, ...]) -> str | None:
    """The version `argv version` reports, or None when that command is not there."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        out = subprocess.run([*argv, "version"], capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    match = re.search(r"v?(\d+\.\d+\.\d+)", out.stdout)
    return match.group(1) if match else None


def compose_cli() -> ComposeCli:
    """The Compose CLI to use; MissingDependencyError naming the fix when there is none."""
    chosen = os.environ.get("LAB_COMPOSE", "").strip()
    candidates: list[tuple[str, ...]] = [("docker", "compose"), ("docker-compose",)]
    if chosen:
        wanted = tuple(chosen.split())
        if wanted not in candidates:
            raise MissingDependencyError(
                f"LAB_COMPOSE={chosen!r}: valid values are 'docker compose' and 'docker-compose'")
        candidates = [wanted]
    for argv in candidates:
        version = _probe(argv)
        if version is None:
            continue
        cli = ComposeCli(argv, version)
        if cli.argv == ("docker-compose",) and tuple(int(x) for x in version.split(".")[:2]) < (1, 29):
            continue  # profiles and depends_on conditions need 1.29
        return cli
    which = f"LAB_COMPOSE={chosen!r} is not installed" if chosen else "no Docker Compose CLI is installed"
    raise MissingDependencyError(f"{which} (or it is older than 1.29); {COMPOSE_HINT}")


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for marker in ("Connection refused", "No such file or directory", "Permission denied"):
        if marker in text:
            return marker.lower()
    return text[:160] or type(exc).__name__
