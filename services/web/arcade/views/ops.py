"""Endpoints for operators and probes: liveness, readiness, metrics."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from arcade import db, metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """The process is alive (no database access)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    """One database round trip: 200, or the 503 of the failure."""
    db.fetch_one("SELECT 1 AS ok")
    return jsonify(db="ok")


@bp.get("/metrics")
def prometheus() -> Response:
    """Prometheus text exposition (aggregated over workers in multiprocess mode)."""
    body, content_type = metrics.exposition()
    return Response(body, content_type=content_type)
