"""All proxies of one server, and the operations that touch more than one (populate, reset).

Changes are serialised by one asyncio lock held only by API calls; the data path never takes it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from lab.proxy import errors
from lab.proxy.model import ProxyInput
from lab.proxy.proxy import Env, Proxy


class ProxyCollection:
    """Proxies by name (see the module docstring)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.proxies: dict[str, Proxy] = {}
        self.lock = asyncio.Lock()

    def get(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise errors.PROXY_NOT_FOUND
        return proxy

    def to_json(self) -> dict[str, Any]:
        return {name: self.proxies[name].to_json() for name in sorted(self.proxies)}

    async def create(self, spec: ProxyInput) -> Proxy:
        """POST /proxies: 409 before binding; a bind failure leaves nothing behind."""
        if spec.name in self.proxies:
            raise errors.PROXY_ALREADY_EXISTS
        proxy = Proxy(self.env, spec.name, spec.listen, spec.upstream)
        if spec.enabled:
            await proxy.start()
        self.proxies[spec.name] = proxy
        return proxy

    def delete(self, name: str) -> None:
        proxy = self.get(name)
        proxy.stop()
        del self.proxies[name]

    async def add_or_replace(self, spec: ProxyInput) -> Proxy:
        existing = self.proxies.get(spec.name)
        if existing is not None:
            if not await existing.differs(spec.listen, spec.upstream):
                return existing
            existing.stop()
        proxy = Proxy(self.env, spec.name, spec.listen, spec.upstream)
        if spec.enabled:
            await proxy.start()
        self.proxies[spec.name] = proxy
        return proxy

    async def populate(self, specs: list[ProxyInput]) -> tuple[list[Proxy], errors.ApiError | None]:
        """Apply entries in order; stop at the first failure, keeping what was done before it."""
        done: list[Proxy] = []
        for spec in specs:
            try:
                done.append(await self.add_or_replace(spec))
            except errors.ApiError as exc:
                return done, exc
        return done, None

    async def reset(self) -> None:
        """Enable every proxy and remove every toxic; stops at the first proxy that cannot bind."""
        for name in sorted(self.proxies):
            proxy = self.proxies[name]
            await proxy.start()
            proxy.reset_toxics()

    def stop_all(self) -> None:
        for proxy in self.proxies.values():
            proxy.stop()
