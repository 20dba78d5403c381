"""The control API: Toxiproxy 2.x's routes, answers and errors over ``lab.proxy.http``.

    request ─> route match ──no──> 404 "404 page not found\\n" (no request id, no UA check)
                   │ method not routed ──> 405, empty body
                   ▼
          X-Toxiproxy-Request-Id ─> User-Agent "Mozilla/..." ──> 403 "User agent not allowed\\n"
                   ▼
               handler ──ApiError──> {"error":..,"status":..}\\n as text/plain (Go's http.Error)
                   ▼
           2xx JSON (compact, as json.Marshal writes it)

Handlers change state only under the collection's lock and never await the data path, so an
answer never waits for traffic (Toxiproxy issues #412, #558).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import random
import socket
import time
from typing import Any, Awaitable, Callable

from lab.proxy import errors, gojson, model
from lab.proxy.collection import ProxyCollection
from lab.proxy.errors import ApiError
from lab.proxy.http import Request, Response
from lab.proxy.metrics import Metrics

TOXIPROXY_VERSION = "2.12.0"

JSON = ("Content-Type", "application/json")
TEXT = ("Content-Type", "text/plain; charset=utf-8")
NOSNIFF = ("X-Content-Type-Options", "nosniff")


class RequestIds:
    """20-character xid strings (time, machine, pid, counter; base32hex), as Toxiproxy sends."""

    def __init__(self) -> None:
        self._machine = hashlib.md5(socket.gethostname().encode()).digest()[:3]
        self._pid = (os.getpid() & 0xFFFF).to_bytes(2, "big")
        self._counter = itertools.count(random.getrandbits(24))

    def next(self) -> str:
        raw = (
            int(time.time()).to_bytes(4, "big")
            + self._machine
            + self._pid
            + (next(self._counter) & 0xFFFFFF).to_bytes(3, "big")
        )
        return base64.b32hexencode(raw).decode()[:20].lower()


def json_response(status: int, value: Any) -> Response:
    return Response(status, gojson.dumps(value), [JSON])


def error_response(err: ApiError) -> Response:
    body = gojson.dumps({"error": err.message, "status": err.status}) + b"\n"
    return Response(err.status, body, [TEXT, NOSNIFF])




Route = Callable[[Request, dict[str, str]], Awaitable[Response]]


class Api:
    """Routes requests to handlers over one ProxyCollection."""

    def __init__(self, collection: ProxyCollection, metrics: Metrics | None, version: str) -> None:
        self.proxies = collection
        self.metrics = metrics
        self.version = version
        self.ids = RequestIds()
        self.routes: list[tuple[list[str], dict[str, Route]]] = [
            (["reset"], {"POST": self.reset}),
            (["proxies"], {"GET": self.proxy_index, "POST": self.proxy_create}),
            (["populate"], {"POST": self.populate}),
            (["proxies", "{proxy}"], {
                "GET": self.proxy_show, "POST": self.proxy_update,
                "PATCH": self.proxy_update, "DELETE": self.proxy_delete,
            }),
            (["proxies", "{proxy}", "toxics"], {"GET": self.toxic_index, "POST": self.toxic_create}),
            (["proxies", "{proxy}", "toxics", "{toxic}"], {
                "GET": self.toxic_show, "POST": self.toxic_update,
                "PATCH": self.toxic_update, "DELETE": self.toxic_delete,
            }),
            (["version"], {"GET": self.show_version}),
        ]
        if metrics is not None:
            every: dict[str, Route] = {m: self.show_metrics for m in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD",
                                                                    "OPTIONS")}
            self.routes.append((["metrics"], every))

    def _match(self, path: str) -> tuple[dict[str, Route], dict[str, str]] | None:
        if not path.startswith("/"):
            return None
        segments = path[1:].split("/")
        for pattern, methods in self.routes:
            if len(pattern) != len(segments):
                continue
            params: dict[str, str] = {}
            for p, s in zip(pattern, segments):
                if p.startswith("{"):
                    if not s:
                        break
                    params[p[1:-1]] = s
                elif p != s:
                    break
            else:
                return methods, params
        return None

    async def handle(self, request: Request) -> Response:
        found = self._match(request.path)
        if found is None:
            return Response(404, b"404 page not found\n", [TEXT, NOSNIFF])
        methods, params = found
        route = methods.get(request.method)
        if route is None:
            return Response(405)
        request_id = ("X-Toxiproxy-Request-Id", self.ids.next())
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            resp = Response(403, b"User agent not allowed\n", [TEXT, NOSNIFF])
        else:
            try:
                resp = await route(request, params)
            except ApiError as err:
                resp = error_response(err)
        resp.headers.append(request_id)
        return resp

    # -- proxies -------------------------------------------------------------------------------
    async def proxy_index(self, request: Request, p: dict[str, str]) -> Response:
        return json_response(200, self.proxies.to_json())

    async def proxy_create(self, request: Request, p: dict[str, str]) -> Response:
        spec = model.parse_proxy_create(request.body)
        async with self.proxies.lock:
            proxy = await self.proxies.create(spec)
        return json_response(201, proxy.to_json())

    async def populate(self, request: Request, p: dict[str, str]) -> Response:
        try:
            specs = model.parse_populate(request.body)
        except ApiError as err:
            body = {"error": err.message, "status": err.status, "proxies": None}
            return json_response(err.status, body)
        async with self.proxies.lock:
            done, failed = await self.proxies.populate(specs)
        listed = [x.to_json() for x in done] or None
        if failed is not None:
            return json_response(failed.status, {"error": failed.message, "status": failed.status, "proxies": listed})
        return json_response(201, {"proxies": listed})

    async def proxy_show(self, request: Request, p: dict[str, str]) -> Response:
        return json_response(200, self.proxies.get(p["proxy"]).to_json())

    async def proxy_update(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            proxy = self.proxies.get(p["proxy"])
            spec = model.parse_proxy_update(request.body, proxy.as_input())
            await proxy.update(spec)
        return json_response(200, proxy.to_json())

    async def proxy_delete(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            self.proxies.delete(p["proxy"])
        return no_content()

    async def reset(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            await self.proxies.reset()
        return no_content()

    # -- toxics --------------------------------------------------------------------------------
    async def toxic_index(self, request: Request, p: dict[str, str]) -> Response:
        return json_response(200, self.proxies.get(p["proxy"]).toxics_json())

    async def toxic_create(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            proxy = self.proxies.get(p["proxy"])
            toxic = model.parse_toxic_create(request.body, (t.name for t in proxy.toxics))
            proxy.add_toxic(toxic)
        return json_response(200, toxic.to_json())

    async def toxic_show(self, request: Request, p: dict[str, str]) -> Response:
        proxy = self.proxies.get(p["proxy"])
        toxic = proxy.find_toxic(p["toxic"])
        if toxic is None:
            raise errors.TOXIC_NOT_FOUND
        return json_response(200, toxic.to_json())

    async def toxic_update(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            proxy = self.proxies.get(p["proxy"])
            toxic = proxy.find_toxic(p["toxic"])
            if toxic is None:
                raise errors.TOXIC_NOT_FOUND
            config, toxicity = model.parse_toxic_update(request.body, toxic)
            proxy.update_toxic(toxic, config, toxicity)
        return json_response(200, toxic.to_json())

    async def toxic_delete(self, request: Request, p: dict[str, str]) -> Response:
        async with self.proxies.lock:
            proxy = self.proxies.get(p["proxy"])
            toxic = proxy.find_toxic(p["toxic"])
            if toxic is None:
                raise errors.TOXIC_NOT_FOUND
            proxy.remove_toxic(toxic)
        return no_content()

    # -- misc ----------------------------------------------------------------------------------
    async def show_version(self, request: Request, p: dict[str, str]) -> Response:
        body = f'{{"version": "{self.version}"}}\n'.encode()
        return Response(200, body, [("Content-Type", "application/json;charset=utf-8")])

    async def show_metrics(self, request: Request, p: dict[str, str]) -> Response:
        assert self.metrics is not None
        body, content_type = self.metrics.render()
        return Response(200, body, [("Content-Type", content_type)])


def no_content() -> Response:
    """A fresh 204 (handlers append headers to responses, so none is shared)."""
    return Response(204)
