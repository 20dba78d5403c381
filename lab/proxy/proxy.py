"""One named proxy: a listener, its live connections and its toxics.

Lifecycle follows Toxiproxy: ``start`` binds (the bound address replaces ``listen``, so a
port picked by the OS sticks across disable/enable); ``stop`` closes the listener and every
live connection; toxics survive both. Every method returns without waiting on the data path.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from dataclasses import dataclass, field
from typing import Any

from lab.proxy import addr, errors, splice
from lab.proxy.link import DIAL, Connection, Fair, Side
from lab.proxy.metrics import Metrics
from lab.proxy.model import DIRECTIONS, ProxyInput, Toxic

log = logging.getLogger("lab.proxy")

REFUSE_TYPE = "lab_refuse_when_down"


@dataclass
class Env:
    """What every proxy of one server shares: the random source (``--seed``), the metrics, the
    bulk-read scheduler and when links without a toxic use the splice fast path (``splice.mode``:
    GAMEDAY_PROXY_SPLICE=bulk, always or off)."""

    rng: random.Random = field(default_factory=random.Random)
    metrics: Metrics | None = None
    fair: Fair = field(default_factory=Fair)
    splice: str = field(default_factory=splice.mode)


class Proxy:
    """A Toxiproxy proxy (see the module docstring)."""

    def __init__(self, env: Env, name: str, listen: str, upstream: str) -> None:
        self.env = env
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.toxics: list[Toxic] = []  # creation order, both streams
        self.connections: set[Connection] = set()
        self._server: asyncio.AbstractServer | None = None
        self._probe: asyncio.Task[None] | None = None

    # -- views ---------------------------------------------------------------------------------
    def toxics_json(self) -> list[dict[str, Any]]:
        ordered = [t for d in DIRECTIONS for t in self.toxics if t.direction == d]
        return [t.to_json() for t in ordered]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},
            "toxics": self.toxics_json(),
        }

    def as_input(self) -> ProxyInput:
        return ProxyInput(self.name, self.listen, self.upstream, self.enabled)

    def find_toxic(self, name: str) -> Toxic | None:
        for t in self.toxics:
            if t.name == name:
                return t
        return None

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Bind ``listen`` and accept; a bind or resolve failure is a 500 with Go's text."""
        if self.enabled:
            return
        try:
            sock, bound = await addr.listen(self.listen)
        except addr.AddrError as exc:
            raise errors.internal(str(exc)) from None
        await self._serve(sock)
        self.listen = str(bound)
        self.enabled = True
        log.info("proxy %s listening on %s -> %s", self.name, self.listen, self.upstream)

    async def _serve(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(lambda: Side(self), sock=sock, backlog=1024)
        except BaseException:
            sock.close()
            raise

    def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def stop(self) -> None:
        """Close the listener and every live connection (no-op when disabled)."""
        if not self.enabled:
            return
        self.enabled = False
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        self._close_listener()
        for conn in list(self.connections):
            conn.close(abort=True)

    async def differs(self, listen: str, upstream: str) -> bool:
        """Whether ``listen`` (resolved) or ``upstream`` differ from the current values."""
        try:
            resolved = await addr.resolve(listen)
        except addr.AddrError as exc:
            raise errors.internal(str(exc)) from None
        return self.listen != str(resolved) or self.upstream != upstream

    async def update(self, new: ProxyInput) -> None:
        """Toxiproxy's update: a changed address restarts the proxy; ``enabled`` toggles it."""
        if await self.differs(new.listen, new.upstream):
            self.stop()
            self.listen = new.listen
            self.upstream = new.upstream
        if new.enabled != self.enabled:
            if new.enabled:
                await self.start()
            else:
                self.stop()

    # -- connections ---------------------------------------------------------------------------
    def accepted(self, client: Side) -> None:
        conn = Connection(self, client)
        self.connections.add(conn)
        client.pause(DIAL)
        conn.dial_task = asyncio.get_running_loop().create_task(self._dial(conn))

    async def _dial(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        try:
            host, port = addr.split_upstream(self.upstream)
            _transport, server = await loop.create_connection(lambda: Side(self, conn), host, port)
        except (OSError, addr.AddrError) as exc:
            log.info("proxy %s: upstream %s: %s", self.name, self.upstream, exc)
            conn.dial_task = None
            self._dial_failed(conn)
            return
        conn.dial_task = None
        if conn.closed:
            server.transport.close()
            return
        conn.attach(server, self.toxics)

    def _dial_failed(self, conn: Connection) -> None:
        refuse = next((t for t in self.toxics if t.type == REFUSE_TYPE), None)
        if refuse is None:
            conn.close()  # Toxiproxy: the client saw a connect, now gets EOF
            return
        conn.close(reset=True)
        if self._probe is None and self.enabled:
            self._close_listener()
            self._probe = asyncio.get_running_loop().create_task(self._wait_for_upstream(refuse))

    async def _wait_for_upstream(self, refuse: Toxic) -> None:
        """While refusing: probe the upstream; listen again on the same port once it answers."""
        while self.enabled:
            await asyncio.sleep(refuse.config.probe_every)
            try:
                host, port = addr.split_upstream(self.upstream)
                _r, w = await asyncio.open_connection(host, port)
                w.close()
            except (OSError, addr.AddrError):
                continue
            await self._relisten()
            return

    async def _relisten(self) -> None:
        self._probe = None
        if not self.enabled or self._server is not None:
            return
        try:
            sock, _ = await addr.listen(self.listen)
            await self._serve(sock)
        except (addr.AddrError, OSError) as exc:
            log.warning("proxy %s: cannot listen again on %s: %s", self.name, self.listen, exc)

    def forget(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if self.env.metrics is not None:
            for link in conn.links():
                self.env.metrics.link_ended(self, link.direction, link.received, link.sent)

    # -- toxics on live connections ------------------------------------------------------------
    def add_toxic(self, toxic: Toxic) -> None:
        self.toxics.append(toxic)
        for conn in list(self.connections):
            link = conn.link(toxic.direction)
            if link is not None and not conn.closed:
                link.add(toxic)

    def update_toxic(self, toxic: Toxic, config: Any, toxicity: float) -> None:
        toxic.config = config
        toxic.toxicity = toxicity
        for conn in list(self.connections):
            link = conn.link(toxic.direction)
            if link is not None and not conn.closed:
                link.restart(toxic)

    def remove_toxic(self, toxic: Toxic) -> None:
        self.toxics.remove(toxic)
        for conn in list(self.connections):
            link = conn.link(toxic.direction)
            if link is not None:
                link.remove(toxic)
        if toxic.type == "timeout":
            # Toxiproxy closes the connections a timeout toxic was holding when it goes.
            for conn in list(self.connections):
                if conn.link(toxic.direction) is not None:
                    conn.close()
        if toxic.type == REFUSE_TYPE and self._probe is not None:
            self._probe.cancel()
            asyncio.get_running_loop().create_task(self._relisten())

    def reset_toxics(self) -> None:
        for toxic in list(self.toxics):
            self.remove_toxic(toxic)
