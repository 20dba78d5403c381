"""shed-load: turn away a share of player traffic at the edge (rate limit in front of Arcade)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from pydantic import Field

from lab.actions.base import Action, ActionContext, Args


class ShedArgs(Args):
    percent: float = Field(ge=0, le=100)


def _loadgen(ctx: ActionContext, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(f"http://{ctx.stack.address('loadgen')}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read() or b"{}")  # type: ignore[no-any-return]


def run(ctx: ActionContext, args: ShedArgs) -> dict[str, Any]:
    state = _loadgen(ctx, "GET", "/state")
    offered = float(state.get("current_rate", 0.0))
    admitted = offered * (1 - args.percent / 100)
    _loadgen(ctx, "POST", "/rate", {"rate": admitted})
    return {"offered_rps": round(offered, 2), "admitted_rps": round(admitted, 2), "percent": args.percent}


ACTION = Action("shed-load", "turn away a share of traffic before it reaches Arcade", ShedArgs, run, "change")
