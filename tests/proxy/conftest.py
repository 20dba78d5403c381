"""Fixtures for the proxy tests: a real `gameday proxy` process, echo upstreams, raw HTTP.

Everything listens on 127.0.0.1 with OS-chosen ports and is stopped at teardown.
"""

from __future__ import annotations

from typing import Iterator

import pytest
from proxy_helpers import Api, EchoServer, ProxyProcess, served_proxy


@pytest.fixture(scope="session")
def proxy_server() -> Iterator[ProxyProcess]:
    """One proxy server for the session (proxy metrics on, seeded)."""
    with served_proxy() as server:
        yield server


@pytest.fixture
def api(proxy_server: ProxyProcess) -> Iterator[Api]:
    """The session server's API, emptied before and after each test."""
    client = Api(proxy_server.url)
    client.clear()
    try:
        yield client
    finally:
        client.clear()
        client.session.close()


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    """A threaded TCP echo server on 127.0.0.1 (the usual upstream)."""
    server = EchoServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def toxi(api: Api, proxy_server: ProxyProcess):
    """The toxiproxy-python client pointed at the session server."""
    from toxiproxy import Toxiproxy

    client = Toxiproxy()
    client.update_api_consumer(proxy_server.host, proxy_server.port)
    return client


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster with pgbench tables (`make test` installs the server)."""
    import pg_helpers
    from proxy_helpers import free_port

    assert pg_helpers.available(), "PostgreSQL server binaries and pgbench are needed: `make test` installs them"
    cluster = pg_helpers.start_cluster(free_port())
    try:
        yield cluster
    finally:
        cluster.stop()
