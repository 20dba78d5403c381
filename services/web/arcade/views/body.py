"""Reading JSON request bodies: a field of the wrong shape is a 400 bad_request."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import BadRequest


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or 400."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("expected a JSON object body (Content-Type: application/json)")
    return body


INT_MAX = 2**31 - 1  # PostgreSQL integer


def int_field(body: dict[str, Any], name: str, minimum: int = 0) -> int:
    """A whole-number field in [minimum, INT_MAX], or 400."""
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= INT_MAX:
        raise BadRequest(f"{name}: expected a whole number from {minimum} to {INT_MAX}, got {value!r}")
    return value


def str_field(body: dict[str, Any], name: str) -> str:
    """A non-empty string field, or 400."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name}: expected a non-empty string, got {value!r}")
    return value
