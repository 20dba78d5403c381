"""The app factory: settings, database access, blueprints, error handlers, metrics hooks."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import HTTPException

from arcade import db, features, metrics
from arcade.config import load_settings
from arcade.errors import ApiError, DbFailure
from arcade.views import auth, games, lobby, ops, players, store

log = logging.getLogger("arcade")


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build Arcade from ARCADE_* environment variables, overridden by `config`."""
    app = Flask("arcade", static_folder=None)
    if app.logger.level == logging.NOTSET:  # app.logger is the "arcade" logger, with Flask's handler
        app.logger.setLevel(logging.INFO)  # the start-up line and each 503 reach gunicorn's stderr
    settings = load_settings(config, os.environ)
    app.config["ARCADE"] = settings
    app.json.sort_keys = False  # type: ignore[attr-defined]
    db.install_wait_callback()
    app.extensions["arcade.db"] = db.Database(settings)
    for blueprint in (lobby.bp, auth.bp, games.bp, players.bp, store.bp, ops.bp):
        app.register_blueprint(blueprint)
    _register_hooks(app)
    features.install(app, os.environ.get("ARCADE_FEATURES_FILE"))
    _register_error_handlers(app)
    log.info(
        "arcade: access mode %s, pool size %d, request timeout %.1f s, flags: %s",
        settings.access_mode.value, settings.pool_size, settings.request_timeout_s,
        ", ".join(sorted(settings.flags)) or "none",
    )
    return app


def _register_hooks(app: Flask) -> None:
    """Start the request's deadline and clock; count it; release its connection."""

    @app.before_request
    def start() -> None:
        g.arcade_started = time.perf_counter()
        db.begin_request()

    @app.after_request
    def count(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        elapsed = time.perf_counter() - g.get("arcade_started", time.perf_counter())
        metrics.HTTP_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(route).observe(elapsed)
        return response

    @app.teardown_request
    def release(_exc: BaseException | None) -> None:
        db.end_request()


def _error(status: int, error: str, detail: str, **extra: Any) -> tuple[Response, int]:
    """A JSON error body {"error", "detail", ...} with its status."""
    return jsonify(error=error, detail=detail, **extra), status


def _register_error_handlers(app: Flask) -> None:
    """Turn every failure into JSON: 503 for the database, 4xx for the client, 500 for bugs."""

    @app.errorhandler(DbFailure)
    def db_failure(exc: DbFailure) -> tuple[Response, int]:
        metrics.DB_ERRORS.labels(exc.sqlstate or "none", exc.cause.value).inc()
        log.warning("%s %s: 503 %s: %s", request.method, request.path, exc.cause.value, exc.detail)
        return _error(503, exc.cause.value, exc.detail, sqlstate=exc.sqlstate)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> tuple[Response, int]:
        return _error(exc.status, exc.error, exc.detail)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        code = (exc.name or "error").lower().replace(" ", "_").replace("'", "")
        response = jsonify(error=code, detail=exc.description)
        response.status_code = exc.code or 500
        for key, value in exc.get_headers():  # e.g. Allow of a 405
            if key.lower() != "content-type":
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def internal_error(exc: Exception) -> tuple[Response, int]:
        log.exception("%s %s: 500", request.method, request.path)
        return _error(500, "internal_error", f"{type(exc).__name__}: {exc}")
