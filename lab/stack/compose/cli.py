"""The Compose CLI: found once and checked, run for one project, its failures turned into one-line errors.

    compose_cli()  `docker compose` (v2) when the docker CLI has the plugin, else `docker-compose`
                   (v1.29+); LAB_COMPOSE="docker compose" or "docker-compose" chooses one
    Compose(project).run(args, env)   the CLI with the stack's variables; CompletedProcess or an error:
        a port taken                  ─▶ PortInUseError naming the config key (and the port)
        anything else                 ─▶ StackError with the CLI's last lines

Up and down go through the CLI (the Docker SDK has no Compose); everything else goes through the
SDK (lab/stack/compose/containers.py).
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from lab.errors import MissingDependencyError, PortInUseError, StackError
from lab.stack import ports
from lab.stack.compose.env import compose_file

COMPOSE_HINT = (
    "install Docker Compose v2 (the `docker compose` plugin) or v1.29+ (`apt-get install docker-compose`), "
    "or use `--stack local`"
)


@dataclass(frozen=True)
class ComposeCli:
    """How to run Compose here: the argv prefix and its version."""

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


class Compose:
    """The Compose CLI for one project of docker-compose.yml."""

    def __init__(self, project: str):
        self.project = project

    def run(self, *args: str, env: dict[str, str], profiles: tuple[str, ...] = (), timeout: float = 600,
            check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run `<compose> --project-name P --file docker-compose.yml [--profile ...] ARGS` with the
        stack's variables (and none of the caller's own LAB_* ones, which would override them)."""
        cli = compose_cli()
        argv = [*cli.argv, "--project-name", self.project, "--file", str(compose_file()),
                "--project-directory", str(compose_file().parent)]
        for profile in profiles:
            argv += ["--profile", profile]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LAB_") or k == "LAB_COMPOSE"}
        full_env.update(env)
        full_env.setdefault("COMPOSE_HTTP_TIMEOUT", "300")
        try:
            proc = subprocess.run([*argv, *args], env=full_env, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise StackError(f"`{cli} {' '.join(args[:2])}` did not finish within {timeout:.0f} s") from None
        if check and proc.returncode != 0:
            raise failure(proc, env)
        return proc


def failure(proc: subprocess.CompletedProcess[str], env: dict[str, str]) -> StackError | PortInUseError:
    """The one error a failed Compose run amounts to (pure)."""
    text = (proc.stderr or "") + (proc.stdout or "")
    for line in text.splitlines():
        if "already allocated" in line or "address already in use" in line:
            found = re.findall(r"(?:127\.0\.0\.1|0\.0\.0\.0):(\d+)", line)
            number = int(found[0]) if found else 0
            return ports.in_use_error(ports.slot_of_variable(env, number) if number else None, number)
    lines = [line for line in text.strip().splitlines() if line.strip()][-8:]
    return StackError(f"docker compose failed (exit {proc.returncode}):\n" + "\n".join(lines))


def seed_failed(error: Exception) -> bool:
    """Whether a Compose failure says the seed (schema and data) did not complete."""
    text = str(error)
    return "seed" in text and ("didn't complete successfully" in text or "exit" in text)
