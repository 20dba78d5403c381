"""inspect-web: Arcade's workers, readiness and recent responses by status (from its /metrics)."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from lab.actions.base import Action, ActionContext, NoArgs

LINE = re.compile(r'^arcade_http_requests_total\{(?P<labels>[^}]*)\} (?P<value>[\d.e+]+)$')


def run(ctx: ActionContext, _args: NoArgs) -> dict[str, Any]:
    stack = ctx.stack
    urls = stack.urls()
    by_status: dict[str, float] = {}
    try:
        with urllib.request.urlopen(urls["metrics"], timeout=3) as resp:
            for line in resp.read().decode().splitlines():
                match = LINE.match(line)
                if match:
                    status = re.search(r'status="(\d+)"', match["labels"])
                    key = status.group(1) if status else "?"
                    by_status[key] = by_status.get(key, 0.0) + float(match["value"])
    except OSError as exc:
        by_status = {"unreachable": 0.0, "error": str(exc)}  # type: ignore[dict-item]
    try:
        with urllib.request.urlopen(urls["arcade"] + "readyz", timeout=3) as resp:
            ready = {"status": resp.status}
    except urllib.error.HTTPError as exc:
        ready = {"status": exc.code, **json.loads(exc.read() or b"{}")}
    except OSError as exc:
        ready = {"status": None, "error": str(exc)}
    return {"workers": len(stack.web_workers()), "readyz": ready, "responses_by_status": by_status}


ACTION = Action("inspect-web", "Arcade's workers, readiness and responses by status", NoArgs, run, "inspect")
