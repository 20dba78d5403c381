"""Arcade's settings: read from ARCADE_* environment variables, overridden by a dict.

Every bad value raises ValueError with one line naming the variable and what is valid.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions

log = logging.getLogger("arcade")

ENV_PREFIX = "ARCADE_"


class AccessMode(enum.Enum):
    """How a request gets its database connection."""

    POOL = "pool"  # a bounded pool per worker process; wait for a free connection
    PER_REQUEST = "per-request"  # a new connection per request, closed at its end (March 2023)


# flag name -> what it does; unknown flags are logged and ignored
KNOWN_FLAGS: dict[str, str] = {
    "broken_leaderboard": "GET /leaderboard answers 500 (a bad deploy)",
}


@dataclass(frozen=True)
class Settings:
    """Validated settings of one Arcade app."""

    dsn: str
    access_mode: AccessMode = AccessMode.POOL
    pool_size: int = 4
    pool_timeout_s: float = 2.0
    connect_timeout_s: float = 3.0
    statement_timeout_ms: int = 5000
    request_timeout_s: float = 10.0
    flags: frozenset[str] = frozenset()


SETTING_NAMES = (
    "dsn",
    "access_mode",
    "pool_size",
    "pool_timeout_s",
    "connect_timeout_s",
    "statement_timeout_ms",
    "request_timeout_s",
    "flags",
)


def load_settings(config: Mapping[str, Any] | None, environ: Mapping[str, str]) -> Settings:
    """Merge ARCADE_* variables of `environ` with `config` (config wins) and validate them."""
    raw: dict[str, tuple[str, Any]] = {}  # key -> (name to show in errors, value)
    for key in SETTING_NAMES:
        env_name = ENV_PREFIX + key.upper()
        if env_name in environ:
            raw[key] = (env_name, environ[env_name])
    for key, value in (config or {}).items():
        if key not in SETTING_NAMES:
            raise ValueError(f"config[{key!r}]: unknown setting; valid: {', '.join(SETTING_NAMES)}")
        raw[key] = (f"config[{key!r}]", value)

    if "dsn" not in raw or not str(raw["dsn"][1]).strip():
        raise ValueError(
            "ARCADE_DSN: required; a libpq DSN such as "
            "'host=127.0.0.1 port=5432 dbname=arcade user=arcade password=...'"
        )
    dsn_name, dsn = raw["dsn"][0], str(raw["dsn"][1]).strip()
    try:
        psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError as exc:
        detail = str(exc).strip().splitlines()[0]
        raise ValueError(f"{dsn_name}: not a libpq DSN ({detail}); e.g. 'host=... dbname=arcade'") from None
    values: dict[str, Any] = {"dsn": dsn}
    if "access_mode" in raw:
        values["access_mode"] = _access_mode(*raw["access_mode"])
    if "pool_size" in raw:
        values["pool_size"] = _integer(*raw["pool_size"], minimum=1, what="connections >= 1")
    for key in ("pool_timeout_s", "connect_timeout_s", "request_timeout_s"):
        if key in raw:
            values[key] = _seconds(*raw[key])
    if "statement_timeout_ms" in raw:
        values["statement_timeout_ms"] = _integer(
            *raw["statement_timeout_ms"], minimum=0, what="milliseconds >= 0 (0 = no limit)"
        )
    if "flags" in raw:
        values["flags"] = _flags(*raw["flags"])
    return Settings(**values)


def _access_mode(name: str, value: Any) -> AccessMode:
    """Parse an access mode."""
    try:
        return AccessMode(str(value).strip())
    except ValueError:
        valid = ", ".join(m.value for m in AccessMode)
        raise ValueError(f"{name}: unknown access mode {value!r}; valid: {valid}") from None


def _integer(name: str, value: Any, minimum: int, what: str) -> int:
    """Parse a whole number >= minimum."""
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(str(value).strip()) if not isinstance(value, (int, float)) else int(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a whole number; expected {what}") from None
    if number < minimum:
        raise ValueError(f"{name}: {value!r} is out of range; expected {what}")
    return number


def _seconds(name: str, value: Any) -> float:
    """Parse a positive number of seconds."""
    try:
        if isinstance(value, bool):
            raise ValueError
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {value!r} is not a number; expected seconds > 0, e.g. 2.5") from None
    if not number > 0 or number == float("inf"):
        raise ValueError(f"{name}: {value!r} is out of range; expected seconds > 0, e.g. 2.5")
    return number


def _flags(name: str, value: Any) -> frozenset[str]:
    """Parse comma-separated feature flags, logging and dropping unknown ones."""
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    flags = set()
    for item in items:
        flag = str(item).strip()
        if not flag:
            continue
        if flag not in KNOWN_FLAGS:
            log.warning("%s: ignoring unknown flag %r; known: %s", name, flag, ", ".join(KNOWN_FLAGS))
            continue
        flags.add(flag)
    return frozenset(flags)
