"""Shared by the network faults: one toxic on the `postgres` proxy, named after the fault id,
added and removed through the Toxiproxy HTTP API only (so real Toxiproxy works the same)."""

from __future__ import annotations

from typing import Any

from lab.faults.base import FaultContext
from lab.stack.base import PROXY_NAME


def add(ctx: FaultContext, toxic_type: str, stream: str, attributes: dict[str, Any]) -> dict[str, Any]:
    proxy = ctx.toxiproxy().get_proxy(PROXY_NAME)
    if ctx.fault_id not in proxy.toxics():
        proxy.add_toxic(type=toxic_type, stream=stream, name=ctx.fault_id, toxicity=1.0, attributes=attributes)
    return {"toxic": ctx.fault_id}


def remove(ctx: FaultContext, _params: Any, _data: dict[str, Any]) -> None:
    proxy = ctx.toxiproxy().get_proxy(PROXY_NAME)
    if ctx.fault_id in proxy.toxics():
        proxy.destroy_toxic(ctx.fault_id)


def present(ctx: FaultContext, _params: Any, _data: dict[str, Any]) -> bool:
    return ctx.fault_id in ctx.toxiproxy().get_proxy(PROXY_NAME).toxics()
