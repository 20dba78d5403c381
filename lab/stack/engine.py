"""The Docker engine, found once and checked, with one-line errors that say what to do.

    engine()          a docker SDK client that has answered a ping (DOCKER_HOST, else the local socket)
    engine_answers()  whether one does (for tests and scripts that only ask)

Every kind of stack made of containers reaches the engine through here; the Compose CLI is
lab/stack/compose/cli.py.
"""

from __future__ import annotations

import os
from typing import Any

from lab.errors import MissingDependencyError

ENGINE_HINT = "start it (`systemctl start docker`), point DOCKER_HOST at one, or use `--stack local`"


def engine() -> Any:
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


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    for marker in ("Connection refused", "No such file or directory", "Permission denied"):
        if marker in text:
            return marker.lower()
    return text[:160] or type(exc).__name__
