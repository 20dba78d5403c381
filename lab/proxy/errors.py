"""Every error the control API answers, in one table (Toxiproxy's texts and status codes).

Handlers raise an ``ApiError``; the HTTP layer writes it as ``{"error":..,"status":..}`` plus a
newline. ``joined`` builds the ``<table text>: <detail>`` variants Toxiproxy produces, e.g.
``bad request body: EOF`` or ``missing required field: upstream at proxy 2``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiError(Exception):
    """An answer with a status other than 2xx; ``message`` goes to the ``error`` key."""

    message: str
    status: int

    def joined(self, detail: str) -> "ApiError":
        return ApiError(f"{self.message}: {detail}", self.status)

    def __str__(self) -> str:
        return self.message


BAD_REQUEST_BODY = ApiError("bad request body", 400)
MISSING_FIELD = ApiError("missing required field", 400)
PROXY_NOT_FOUND = ApiError("proxy not found", 404)
PROXY_ALREADY_EXISTS = ApiError("proxy already exists", 409)
INVALID_STREAM = ApiError("stream was invalid, can be either upstream or downstream", 400)
INVALID_TOXIC_TYPE = ApiError("invalid toxic type", 400)
TOXIC_ALREADY_EXISTS = ApiError("toxic already exists", 409)
TOXIC_NOT_FOUND = ApiError("toxic not found", 404)
# Not in Toxiproxy (which accepts these values and then misbehaves or crashes):
INVALID_ATTRIBUTE = ApiError("invalid attribute value", 400)


def internal(message: str) -> ApiError:
    """A failure Toxiproxy reports as a bare 500 with the raw error text (bind, resolve)."""
    return ApiError(message, 500)
