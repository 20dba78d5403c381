"""Scraping Arcade's /metrics: one bounded request, parsed into an ArcadeSample (parse is pure)."""

from __future__ import annotations

import asyncio
import time

from prometheus_client.parser import text_string_to_metric_families

from lab.monitor.http import fetch
from lab.monitor.signals import ArcadeSample


def parse_arcade(text: str, t: float) -> ArcadeSample:
    """Arcade's exposition -> responses by status, DB gauges, DB errors by cause."""
    responses: dict[str, float] = {}
    errors: dict[str, float] = {}
    in_use = waiting = None
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "arcade_http_requests_total":
                status = s.labels.get("status", "?")
                responses[status] = responses.get(status, 0.0) + s.value
            elif s.name == "arcade_db_errors_total":
                cause = s.labels.get("cause", "?")
                errors[cause] = errors.get(cause, 0.0) + s.value
            elif s.name == "arcade_db_connections_in_use":
                in_use = (in_use or 0.0) + s.value
            elif s.name == "arcade_db_connections_waiting":
                waiting = (waiting or 0.0) + s.value
    return ArcadeSample(t=t, responses=responses, db_in_use=in_use, db_waiting=waiting, db_errors=errors)


async def scrape_arcade(host: str, port: int, timeout: float) -> ArcadeSample:
    """GET /metrics within `timeout`; failures become a sample with `error` set."""
    t = time.time()
    try:
        resp = await fetch(host, port, "GET", "/metrics", timeout)
    except asyncio.TimeoutError:
        return ArcadeSample(t=t, error="timeout")
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        return ArcadeSample(t=t, error=type(exc).__name__)
    if resp.status != 200:
        return ArcadeSample(t=t, error=f"HTTP {resp.status}")
    try:
        return parse_arcade(resp.body.decode("utf-8", "replace"), t)
    except ValueError as exc:
        return ArcadeSample(t=t, error=f"unparsable metrics: {exc}")
