"""The proxy server: the control API and every proxy in one asyncio loop (uvloop when present).

    gameday proxy ──> run(options) ──> ProxyServer.start()
                                          ├─ Env (seeded RNG, metrics)
                                          ├─ ProxyCollection  <── --config FILE (as /populate)
                                          └─ HttpServer(Api.handle) on --host:--port
                       SIGINT/SIGTERM ──> ProxyServer.stop(): API listener, every proxy and
                                          every connection closed
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from lab.core.safe_input import SCENARIO, InputInvalid, load_json
from lab.errors import ConfigError, PortInUseError
from lab.inputs import read_capped
from lab.proxy import errors, model
from lab.proxy.api import TOXIPROXY_VERSION, Api
from lab.proxy.collection import ProxyCollection
from lab.proxy.http import HttpServer
from lab.proxy.metrics import Metrics
from lab.proxy.proxy import Env
from lab.proxy.splice import WORKERS

log = logging.getLogger("lab.proxy")

DEFAULT_VERSION = f"{TOXIPROXY_VERSION}+gameday"


@dataclass(frozen=True)
class Options:
    host: str = "127.0.0.1"
    port: int = 8474
    config: Path | None = None
    seed: int | None = None
    proxy_metrics: bool = False
    runtime_metrics: bool = False
    version: str = DEFAULT_VERSION


def load_config(path: Path) -> list[model.ProxyInput]:
    """Read and check a ``--config`` file (a /populate array) before anything starts."""
    raw = read_capped(path, SCENARIO, ConfigError, name=str(path))
    try:
        data = load_json(raw, SCENARIO)
    except InputInvalid as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{path}: expected a JSON array of proxies like /populate takes, got {type(data).__name__}")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: [{i}]: expected an object with name, listen, upstream, enabled")
        for key, kind in (("name", str), ("listen", str), ("upstream", str), ("enabled", bool)):
            if key in entry and entry[key] is not None and not isinstance(entry[key], kind):
                raise ConfigError(f"{path}: [{i}].{key}: expected a {'boolean' if kind is bool else 'string'}")
        for key in ("name", "upstream"):
            if not entry.get(key):
                raise ConfigError(f"{path}: [{i}].{key}: missing required field")
    try:
        return model.parse_populate(raw)
    except errors.ApiError as exc:  # pragma: no cover - the checks above catch these first
        raise ConfigError(f"{path}: {exc.message}") from None


class ProxyServer:
    """The API and its proxies; ``async with ProxyServer(options) as s: ... s.url``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        metrics = None
        if options.proxy_metrics or options.runtime_metrics:
            metrics = Metrics(options.proxy_metrics, options.runtime_metrics)
        self.env = Env(rng=random.Random(options.seed), metrics=metrics)
        self.collection = ProxyCollection(self.env)
        self.api = Api(self.collection, metrics, options.version)
        self.http = HttpServer(self.api.handle)
        self.address: tuple[str, int] | None = None

    @property
    def url(self) -> str:
        assert self.address is not None
        host, port = self.address
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    async def start(self) -> None:
        specs = load_config(self.options.config) if self.options.config else []
        try:
            self.address = await self.http.start(self.options.host, self.options.port)
        except OSError as exc:
            raise PortInUseError(
                f"API address {self.options.host}:{self.options.port}: {exc.strerror or exc}"
            ) from None
        if specs:
            async with self.collection.lock:
                _done, err = await self.collection.populate(specs)
            if err is not None:
                await self.stop()
                raise ConfigError(f"{self.options.config}: {err.message}")

    async def stop(self) -> None:
        await self.http.close()
        self.collection.stop_all()
        await asyncio.sleep(0)

    async def __aenter__(self) -> "ProxyServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()


def dump_state(server: ProxyServer) -> str:
    """Every proxy's live connections: pause reasons, queued bytes and stages (for SIGUSR1)."""
    lines = [f"fair queue: {len(server.env.fair.queue)} scheduled={server.env.fair.scheduled}",
             f"splice fast path: {server.env.splice}, pumps started: {WORKERS.started}, "
             f"worker threads: {WORKERS.threads}"]
    for proxy in server.collection.proxies.values():
        lines.append(f"proxy {proxy.name} {proxy.listen} -> {proxy.upstream} enabled={proxy.enabled} "
                     f"toxics={[t.name for t in proxy.toxics]} connections={len(proxy.connections)}")
        for conn in proxy.connections:
            parts = [f"  conn closed={conn.closed} dialing={conn.dial_task is not None}"]
            for side_name, side in (("client", conn.client), ("server", conn.server)):
                if side is not None:
                    reading = side.transport.is_reading() if side.transport is not None else None
                    parts.append(f"{side_name}(paused={side.paused} reading={reading} lost={side.lost})")
            for link in conn.links():
                parts.append(f"{link.direction}(queued={link.queued_bytes} blocked={link.blocked} "
                             f"stages={len(link.stages)} fast={link.pump is not None} done={link.done})")
            lines.append(" ".join(parts))
    return "\n".join(lines)


async def serve(options: Options, ready: Callable[[ProxyServer], None]) -> None:
    """Run until SIGINT or SIGTERM, then close every listener and connection. SIGUSR1 logs the
    state of every live connection to stderr."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with ProxyServer(options) as server:
            loop.add_signal_handler(signal.SIGUSR1, lambda: print(dump_state(server), file=sys.stderr, flush=True))
            ready(server)
            await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)


def run(options: Options, ready: Callable[[ProxyServer], None]) -> None:
    """Blocking entry point: uvloop when importable (unless GAMEDAY_PROXY_LOOP=asyncio), else
    the standard asyncio loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is optional
        uvloop = None  # type: ignore[assignment]
    if uvloop is None or os.environ.get("GAMEDAY_PROXY_LOOP") == "asyncio":
        asyncio.run(serve(options, ready))
    else:
        uvloop.run(serve(options, ready))
