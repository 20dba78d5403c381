"""The Docker API's view of one Compose project: its containers (found by Compose's labels),
their volumes, logs and stats; and the removal of projects whose run dir is gone.

Every call here is one or a few requests to the engine's socket; nothing starts or stops a
container except `remove_orphans` (the lifecycle is lab/stack/compose/stack.py).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lab.stack.compose.env import COMPOSE_NAME, PROJECT_LABEL, RUN_DIR_LABEL, SERVICE_LABEL

LIVE = ("running", "paused")


class Project:
    """The containers and volumes of one Compose project, through the Docker SDK."""

    def __init__(self, client: Any, project: str):
        self.client = client
        self.project = project

    def containers(self, service: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """The project's containers (of one lab service), in container-number order (one API call)."""
        labels = [f"{PROJECT_LABEL}={self.project}"]
        if service is not None:
            labels.append(f"{SERVICE_LABEL}={COMPOSE_NAME.get(service, service)}")
        filters: dict[str, Any] = {"label": labels}
        if status:
            filters["status"] = status
        found = self.client.api.containers(all=True, filters=filters)
        found = [c for c in found if c["Labels"].get("com.docker.compose.oneoff", "False") != "True"]
        return sorted(found, key=lambda c: int(c["Labels"].get("com.docker.compose.container-number", "0") or 0))

    def running(self, service: str) -> list[dict[str, Any]]:
        return [c for c in self.containers(service) if c["State"] == "running"]

    def main_pid(self, container_id: str) -> int | None:
        """The host pid of a container's main process (None when it is not running)."""
        with contextlib.suppress(Exception):
            return int(self.client.api.inspect_container(container_id)["State"]["Pid"]) or None
        return None

    def volume_name(self) -> str:
        return f"{self.project}_db-data"

    def volume_exists(self) -> bool:
        import docker.errors

        try:
            self.client.api.inspect_volume(self.volume_name())
            return True
        except docker.errors.NotFound:
            return False

    def anonymous_volumes(self) -> list[str]:
        """Volumes of the project's containers that nobody named (an image's VOLUME)."""
        out = []
        for c in self.containers():
            for mount in c.get("Mounts", []):
                if mount.get("Type") == "volume" and re.fullmatch(r"[0-9a-f]{64}", mount.get("Name", "")):
                    out.append(mount["Name"])
        return out

    def logs(self, service: str, lines: int) -> str:
        """The last `lines` lines of every container of a service (prefixed by name when several)."""
        out = []
        containers = self.containers(service)
        for c in containers:
            text = self.client.api.logs(c["Id"], tail=lines).decode("utf-8", "replace")
            if len(containers) > 1:
                label = c["Names"][0].lstrip("/")
                text = "".join(f"{label} | {line}\n" for line in text.splitlines())
            out.append(text)
        joined = "".join(out).splitlines()
        return "\n".join(joined[-lines:]) if lines else ""

    def follow_logs(self, service: str) -> Iterator[str]:
        """New log lines of a service's newest container as they come."""
        containers = self.containers(service)
        if not containers:
            return iter(())
        stream = self.client.api.logs(containers[-1]["Id"], stream=True, follow=True, tail=0)
        return (chunk.decode("utf-8", "replace") for chunk in stream)

    def stats(self) -> dict[str, dict[str, float]]:
        """CPU (% of one core) and memory (MB) of every running container, by container name."""
        running = [c for c in self.containers() if c["State"] == "running"]

        def one(container: dict[str, Any]) -> tuple[str, dict[str, float]]:
            raw = self.client.api.stats(container["Id"], stream=False)
            cpu = raw.get("cpu_stats", {})
            pre = raw.get("precpu_stats", {})
            used = cpu.get("cpu_usage", {}).get("total_usage", 0) - pre.get("cpu_usage", {}).get("total_usage", 0)
            system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
            cores = cpu.get("online_cpus") or 1
            percent = 100.0 * used / system * cores if system > 0 else 0.0
            mem = raw.get("memory_stats", {}).get("usage", 0) / 1e6
            return container["Names"][0].lstrip("/"), {"cpu_percent": round(percent, 1), "mem_mb": round(mem, 1)}

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return dict(pool.map(one, running))

    def events(self, since: float) -> Any:
        """The engine's container events of this project (create, start, die, destroy) from `since`:
        a stream to iterate, closed from another thread to stop."""
        filters = {"type": "container", "event": ["create", "start", "die", "destroy"],
                   "label": [f"{PROJECT_LABEL}={self.project}"]}
        return self.client.events(decode=True, filters=filters, since=int(since))


def health(containers: list[dict[str, Any]]) -> str:
    """stopped (none live), paused (every live one paused) or healthy (so far: then ask the service)."""
    if not containers or all(c["State"] in ("exited", "created", "dead") for c in containers):
        return "stopped"
    live = [c for c in containers if c["State"] in LIVE]
    if live and all(c["State"] == "paused" for c in live):
        return "paused"
    return "healthy"


def remove_orphans(client: Any) -> list[str]:
    """Remove the compose stacks whose run directory is gone (a temporary run root deleted while
    its stack ran, a killed test run): containers, networks and volumes. Returns their projects."""
    import docker.errors

    projects: dict[str, str] = {}
    for c in client.api.containers(all=True, filters={"label": [RUN_DIR_LABEL]}):
        run_dir = c["Labels"].get(RUN_DIR_LABEL, "")
        project = c["Labels"].get(PROJECT_LABEL, "")
        if run_dir and project.startswith("gameday-") and not Path(run_dir).exists():
            projects[project] = run_dir
    for project in projects:
        label = {"label": [f"{PROJECT_LABEL}={project}"]}
        for c in client.api.containers(all=True, filters=label):
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_container(c["Id"], force=True, v=True)
        for network in client.api.networks(filters=label):
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_network(network["Id"])
        for volume in (client.api.volumes(filters=label) or {}).get("Volumes") or []:
            with contextlib.suppress(docker.errors.APIError):
                client.api.remove_volume(volume["Name"])
    return sorted(projects)
