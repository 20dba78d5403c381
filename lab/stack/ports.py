"""The stack's host ports: one table, and the allocator every kind of stack uses.

    slot          config key            compose variable        what listens on 127.0.0.1
    db            db.port               LAB_DB_PORT             PostgreSQL (admin SQL, fault helpers)
    pooler        pooler.port           LAB_PGBOUNCER_PORT      PgBouncer
    proxy         proxy.api_port        LAB_PROXY_API_PORT      the fault proxy's control API
    proxy.listen  proxy.listen_port     LAB_PROXY_LISTEN_PORT   the fault proxy's `postgres` link
    web           web.port              LAB_WEB_PORT            Arcade (compose: the proxy's `arcade` edge)
    loadgen       loadgen.control_port  LAB_LOADGEN_PORT        the load generator's control interface

A port the user pinned (non-zero) must be free now; every other slot gets a free port of the
kernel's choosing, distinct from the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from lab.errors import PortInUseError
from lab.stack import procs
from lab.stack.config import StackConfig


@dataclass(frozen=True)
class Slot:
    """One host port of a stack."""

    name: str  # the service (or "proxy.listen") that listens on it
    key: str  # the dotted config key that pins it
    variable: str  # what docker-compose.yml calls it


SLOTS = (
    Slot("db", "db.port", "LAB_DB_PORT"),
    Slot("pooler", "pooler.port", "LAB_PGBOUNCER_PORT"),
    Slot("proxy", "proxy.api_port", "LAB_PROXY_API_PORT"),
    Slot("proxy.listen", "proxy.listen_port", "LAB_PROXY_LISTEN_PORT"),
    Slot("web", "web.port", "LAB_WEB_PORT"),
    Slot("loadgen", "loadgen.control_port", "LAB_LOADGEN_PORT"),
)
BY_NAME = {slot.name: slot for slot in SLOTS}


def configured(config: StackConfig, slot: Slot) -> int:
    """The port the config gives a slot (0: any free one)."""
    section, field = slot.key.split(".")
    return int(getattr(getattr(config, section), field))


def pinned(config: StackConfig) -> dict[str, int]:
    """The ports the user pinned (non-zero), by slot."""
    return {slot.name: port for slot in SLOTS if (port := configured(config, slot))}


def in_use_error(slot: Slot | None, port: int) -> PortInUseError:
    """The one-line error for a port someone else holds, naming the config key that sets it."""
    key = slot.key if slot is not None else "a port"
    return PortInUseError(f"{key}: port {port} on 127.0.0.1 is already in use; "
                          "choose another or set it to 0 for a free port", port)


def free_port(taken: set[int]) -> int:
    """A free port of the kernel's choosing that is not in `taken`."""
    while True:
        port = procs.free_port()
        if port not in taken:
            return port


def allocate(config: StackConfig, taken: set[int] | None = None) -> dict[str, int]:
    """A port for every slot: pinned ones checked (PortInUseError naming the key), the rest free."""
    chosen_pins = pinned(config)
    for name, port in chosen_pins.items():
        if procs.port_in_use(port):
            raise in_use_error(BY_NAME[name], port)
    used = set(taken or ()) | set(chosen_pins.values())
    chosen: dict[str, int] = {}
    for slot in SLOTS:
        chosen[slot.name] = chosen_pins.get(slot.name) or free_port(used)
        used.add(chosen[slot.name])
    return chosen


def lost_race(config: StackConfig, chosen: dict[str, int]) -> bool:
    """After a failed start whose own processes are stopped: did someone else take a port we had
    chosen as free (not one the user pinned)? Then choosing again is worth it."""
    pins = set(pinned(config).values())
    return any(port not in pins and procs.port_in_use(port) for port in chosen.values())


def slot_of_variable(variable_values: dict[str, str], port: int) -> Slot | None:
    """The slot whose compose variable holds `port` (to name the key in an error)."""
    return next((slot for slot in SLOTS if variable_values.get(slot.variable) == str(port)), None)
