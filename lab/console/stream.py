"""The timeline as server-sent events. The server decides what a client gets: the run on this
console's stack, and for a team session only what the team may see.

    event: timeline  data: {"id": N, "html": "<tr>...</tr>"[, "finding": "<article>...</article>"]}
                     (id: N, so a reconnect resumes; `finding` for a result the whole team sees)
    event: tick      data: {"html": status panel}               (once a second)
    event: drill     data: {"run": id}                          (another run began: reload)
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, request, stream_with_context

from lab.console import panels, results
from lab.console.auth import require, role
from lab.console.state import state

bp = Blueprint("stream", __name__)
POLL_S = 0.25
TICK_S = 1.0
MAX_S = 300.0  # then the browser reconnects (EventSource does) and resumes from its last id


def _message(kind: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@bp.get("/stream")
@require("team", "facilitator")
def events() -> Any:
    team = role() != "facilitator"
    run = request.args.get("run", "")
    last = request.headers.get("Last-Event-ID") or request.args.get("after") or "0"
    try:
        cursor = int(last)
    except ValueError:
        cursor = 0

    def generate() -> Iterator[str]:
        nonlocal cursor
        st = state()
        started = time.monotonic()
        next_tick = 0.0
        yield "retry: 1000\n\n"
        while time.monotonic() - started < MAX_S:
            view = st.view()
            current = view.watch.run_dir.name if view.watch else ""
            if current != run:
                yield _message("drill", {"run": current, "phase": view.phase})
                return
            if view.watch is not None:
                for event in view.watch.refresh().after(cursor, team):
                    cursor = event.id
                    data = {"id": event.id, "html": panels.event_html(event)}
                    if results.is_finding(event):
                        data["finding"] = panels.finding_html(event)
                    yield _message("timeline", data, event.id)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_S
                yield _message("tick", {"phase": view.phase, "html": panels.status_html(st, view)})
            time.sleep(POLL_S)

    return Response(stream_with_context(generate()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
