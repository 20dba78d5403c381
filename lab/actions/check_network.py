"""check-network: TCP connect time to each service, and the fault proxy's active toxics."""

from __future__ import annotations

import socket
import time
from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs
from lab.stack.base import PROXY_NAME


def _connect_ms(address: str, attempts: int = 3) -> float | None:
    host, port = address.rsplit(":", 1)
    best: float | None = None
    for _ in range(attempts):
        started = time.perf_counter()
        try:
            with socket.create_connection((host, int(port)), timeout=2):
                elapsed = (time.perf_counter() - started) * 1000
        except OSError:
            continue
        best = elapsed if best is None else min(best, elapsed)
    return best


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    stack = ctx.stack
    services = stack.services
    paths = {name: stack.address(name) for name in services}
    if "proxy" in services:
        paths["db-via-proxy"] = f"127.0.0.1:{stack.db_endpoint()}"
    connect = {name: _connect_ms(addr) for name, addr in paths.items()}
    toxics: list[dict[str, Any]] = []
    proxy_enabled = None
    if "proxy" in services:
        from toxiproxy import Toxiproxy

        host, port = stack.address("proxy").split(":")
        client = Toxiproxy()
        client.update_api_consumer(host, int(port))
        for proxy in client.proxies().values():
            proxy_enabled = proxy.enabled if proxy.name == PROXY_NAME else proxy_enabled
            for name, toxic in proxy.toxics().items():
                toxics.append({"proxy": proxy.name, "name": name, "type": toxic.type, "stream": toxic.stream,
                               "attributes": toxic.attributes})
    return {
        "connect_ms": {k: (round(v, 3) if v is not None else None) for k, v in connect.items()},
        "unreachable": sorted(k for k, v in connect.items() if v is None),
        "db_link_enabled": proxy_enabled,
        "toxics": toxics,
    }


ACTION = Action("check-network", "TCP connect time to each service and the fault proxy's active toxics",
                NoArgs, run, "inspect")
