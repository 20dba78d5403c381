"""TCP addresses the way Go's ``net`` package reads, resolves, binds and prints them.

``localhost:3310`` resolves to ``127.0.0.1:3310`` (IPv4 preferred); an empty host (``:3310``,
``""``, ``0.0.0.0``) is a dual-stack wildcard printed ``[::]:port``; errors read like Go's
(``listen tcp 127.0.0.1:3310: bind: address already in use``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from dataclasses import dataclass


class AddrError(Exception):
    """A Go-style address error; ``str()`` is the text Toxiproxy would answer with."""


@dataclass(frozen=True)
class Resolved:
    """A resolved listen address: ``host`` is an IP literal, or '' for the wildcard."""

    host: str
    port: int

    def __str__(self) -> str:
        if not self.host:
            return f"[::]:{self.port}" if _HAS_IPV6 else f"0.0.0.0:{self.port}"
        if ":" in self.host:
            return f"[{self.host}]:{self.port}"
        return f"{self.host}:{self.port}"


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::", 0))
        return True
    except OSError:
        return False


_HAS_IPV6 = _has_ipv6()


def split_host_port(hostport: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise AddrError(f"address {hostport}: missing ']' in address")
        host, rest = hostport[1:end], hostport[end + 1 :]
        if not rest.startswith(":"):
            raise AddrError(f"address {hostport}: missing port in address")
        return host, rest[1:]
    if ":" not in hostport:
        raise AddrError(f"address {hostport}: missing port in address")
    host, _, port = hostport.rpartition(":")
    if ":" in host:
        raise AddrError(f"address {hostport}: too many colons in address")
    return host, port


def _port(port: str) -> int:
    if port == "":
        return 0
    if port.isdigit():
        n = int(port)
        if n <= 65535:
            return n
        raise AddrError(f"address {port}: invalid port")
    try:
        return socket.getservbyname(port, "tcp")
    except OSError:
        raise AddrError(f"lookup tcp/{port}: unknown port") from None


async def resolve(listen: str) -> Resolved:
    """Go's ``net.ResolveTCPAddr("tcp", listen)`` (an empty string is the wildcard, port 0)."""
    if listen == "":
        return Resolved("", 0)
    host, port_text = split_host_port(listen)
    port = _port(port_text)
    if host in ("", "0.0.0.0", "::"):
        return Resolved("", port)
    try:
        return Resolved(str(ipaddress.ip_address(host)), port)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        raise AddrError(f"lookup {host}: no such host") from None
    infos.sort(key=lambda i: 0 if i[0] == socket.AF_INET else 1)
    return Resolved(str(infos[0][4][0]), port)


def _go_errno(exc: OSError) -> str:
    text = os.strerror(exc.errno) if exc.errno else str(exc)
    return text[:1].lower() + text[1:]


def bind(addr: Resolved) -> socket.socket:
    """A listening socket (SO_REUSEADDR, like Go); raises AddrError with Go's bind message."""
    if addr.host:
        family = socket.AF_INET6 if ":" in addr.host else socket.AF_INET
        host = addr.host
    else:
        family = socket.AF_INET6 if _HAS_IPV6 else socket.AF_INET
        host = "::" if _HAS_IPV6 else "0.0.0.0"
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and not addr.host:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        try:
            sock.bind((host, addr.port))
        except OSError as exc:
            raise AddrError(f"listen tcp {addr}: bind: {_go_errno(exc)}") from None
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def bound_address(sock: socket.socket, wildcard: bool) -> Resolved:
    host, port = sock.getsockname()[:2]
    return Resolved("" if wildcard else host, port)


async def listen(listen_addr: str) -> tuple[socket.socket, Resolved]:
    """Resolve and bind like Go's ``net.Listen("tcp", addr)``; returns the socket and its address."""
    try:
        resolved = await resolve(listen_addr)
    except AddrError as exc:
        raise AddrError(f"listen tcp: {exc}") from None
    sock = bind(resolved)
    return sock, bound_address(sock, not resolved.host)


def split_upstream(upstream: str) -> tuple[str, int]:
    """Host and port to dial; raises AddrError as Go's dialer would."""
    host, port = split_host_port(upstream)
    return host or "localhost", _port(port)


