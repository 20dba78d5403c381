"""Durations as people type them: `90`, `90s`, `5m`, `1h30m`, `2m30s` (pure: no clock)."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)([hms])")
UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0}


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError saying what is valid otherwise."""
    raw = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    parts = _PART.findall(raw)
    if not raw or "".join(n + u for n, u in parts) != raw or len({u for _, u in parts}) != len(parts):
        raise ValueError(f"{text!r} is not a duration; use seconds (90) or units h, m, s (90s, 5m, 1h30m)")
    return sum(float(n) * UNITS[u] for n, u in parts)
