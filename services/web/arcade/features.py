"""Feature switches operators flip while Arcade runs: a switched-off feature answers 503 at once,
without touching the database, so the rest of the site keeps its connections.

    ARCADE_FEATURES_FILE = /path/features.json    {"disabled": ["leaderboard", "store"]}

The file is re-read when its modification time changes, checked at most twice a second per
worker: flipping a switch needs no restart. A missing or unreadable file means everything on.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from flask import Flask, Response, jsonify, request

log = logging.getLogger("arcade")

# feature -> the endpoints (blueprint.view) it covers. The lobby, login and the ops endpoints
# stay on: they are what a degraded site still serves.
FEATURES: dict[str, tuple[str, ...]] = {
    "leaderboard": ("games.leaderboard",),
    "matches": ("games.start_match", "games.post_score"),
    "store": ("store.items", "store.purchase"),
    "profiles": ("players.profile",),
}
RETRY_AFTER_S = 30
CHECK_EVERY_S = 0.5


class FeatureSwitches:
    """The disabled features of one worker, following the switches file."""

    def __init__(self, path: str | None):
        self.path = path
        self._lock = threading.Lock()
        self._checked = 0.0
        self._mtime: float | None = None
        self.disabled: frozenset[str] = frozenset()

    def current(self) -> frozenset[str]:
        if not self.path:
            return self.disabled
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return self.disabled
        with self._lock:
            self._checked = now
            try:
                mtime = os.stat(self.path).st_mtime
            except OSError:
                self._mtime, self.disabled = None, frozenset()
                return self.disabled
            if mtime != self._mtime:
                self._mtime = mtime
                self.disabled = self._read()
        return self.disabled

    def _read(self) -> frozenset[str]:
        try:
            with open(self.path or "") as fh:
                names = json.load(fh).get("disabled", [])
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("features: cannot read %s (%s); every feature stays on", self.path, exc)
            return frozenset()
        known = {str(n) for n in names if n in FEATURES}
        unknown = {str(n) for n in names} - known
        if unknown:
            log.warning("features: ignoring unknown %s; known: %s", ", ".join(sorted(unknown)), ", ".join(FEATURES))
        log.info("features: disabled now: %s", ", ".join(sorted(known)) or "none")
        return frozenset(known)


def install(app: Flask, path: str | None) -> FeatureSwitches:
    """Answer 503 for the endpoints of disabled features, before any database work."""
    switches = FeatureSwitches(path)
    endpoint_feature = {endpoint: name for name, endpoints in FEATURES.items() for endpoint in endpoints}
    app.extensions["arcade.features"] = switches

    @app.before_request
    def switched_off() -> tuple[Response, int] | None:
        feature = endpoint_feature.get(request.endpoint or "")
        if feature is None or feature not in switches.current():
            return None
        response = jsonify(error="feature_disabled", detail=f"{feature} is switched off by the operators; try later")
        response.headers["Retry-After"] = str(RETRY_AFTER_S)
        return response, 503

    return switches
