"""Stack configuration: one validated model, loaded from YAML and `--set key=value` overrides.

    defaults  <-  --config FILE (YAML)  <-  --set section.key=value ...

Errors are one line, name the file (or `--set`) and the dotted key, and say what is valid:
`lab.yaml: web.acces_mode: unknown key; did you mean 'access_mode'?`
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lab.core.errors import first_error, yaml_mapping
from lab.core.safe_input import InputInvalid, load_value
from lab.errors import ConfigError
from lab.inputs import read_text


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DbConfig(_Section):
    """The private PostgreSQL cluster."""

    port: int = Field(0, ge=0, le=65535, description="TCP port on 127.0.0.1; 0 picks a free one")
    max_connections: int = Field(40, ge=5, le=10000, description="low enough that the March surge exhausts it")
    superuser_reserved_connections: int = Field(3, ge=1, le=50, description="slots kept for the lab's admin connection")
    shared_buffers_mb: int = Field(32, ge=1, le=65536)
    statement_log: bool = Field(False, description="log every statement (slow; for debugging)")


class WebConfig(_Section):
    """Arcade under gunicorn."""

    port: int = Field(0, ge=0, le=65535)
    workers: int = Field(2, ge=1, le=64)
    threads: int = Field(8, ge=1, le=256)
    access_mode: Literal["pool", "per-request"] = "pool"
    pool_size: int = Field(4, ge=1, le=1000, description="connections per worker in pool mode")
    pool_timeout_s: float = Field(2.0, gt=0, le=600)
    connect_timeout_s: int = Field(3, ge=1, le=600)
    statement_timeout_ms: int = Field(5000, ge=0, le=3_600_000)
    request_timeout_s: float = Field(10.0, gt=0, le=600, description="deadline for one request's DB work")
    flags: list[str] = Field(default_factory=list, description="Arcade feature flags, e.g. broken_leaderboard")
    disabled_features: list[str] = Field(default_factory=list, description="features switched off, e.g. leaderboard")


class ProxyConfig(_Section):
    """The slot between Arcade and PostgreSQL: a direct connection, or the lab's Toxiproxy-compatible proxy."""

    enabled: bool = True
    api_port: int = Field(0, ge=0, le=65535)
    listen_port: int = Field(0, ge=0, le=65535)


class LoadgenConfig(_Section):
    """The player-traffic generator (a service of the stack, idle unless given a rate)."""

    enabled: bool = True
    control_port: int = Field(0, ge=0, le=65535)
    rate: float = Field(0.0, ge=0, le=100_000, description="baseline requests per second")


class PoolerConfig(_Section):
    """PgBouncer between Arcade and PostgreSQL (off until a scenario or `enable-pooler` turns it on)."""

    enabled: bool = False
    port: int = Field(0, ge=0, le=65535)
    pool_mode: Literal["session", "transaction"] = "transaction"
    pool_size: int = Field(20, ge=1, le=1000, description="server connections PgBouncer keeps per database and user")
    max_client_conn: int = Field(1000, ge=10, le=100_000, description="client connections PgBouncer accepts")


class StackConfig(_Section):
    """Everything `gameday up` needs to know about one stack, of any kind (ports: lab/stack/ports.py)."""

    db: DbConfig = DbConfig()
    web: WebConfig = WebConfig()
    proxy: ProxyConfig = ProxyConfig()
    loadgen: LoadgenConfig = LoadgenConfig()
    pooler: PoolerConfig = PoolerConfig()


def load_config(path: str | Path | None = None, overrides: tuple[str, ...] | list[str] = ()) -> StackConfig:
    """Build a StackConfig from an optional YAML file and `key=value` overrides (later wins)."""
    data: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        origin = str(path)
        text = read_text(Path(path), error=ConfigError, name=str(path))
        try:
            data = yaml_mapping(text, "a mapping of sections (db, web, proxy, loadgen, pooler)")
        except ValueError as exc:
            raise ConfigError(f"{path}: {exc}") from None
    return apply_overrides(_validate(data, origin), list(overrides))


def apply_overrides(config: StackConfig, overrides: list[str], origin: str = "--set") -> StackConfig:
    """A copy of `config` with `key=value` overrides applied (validated like `--set`)."""
    data = config.model_dump()
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{origin} {item}: expected KEY=VALUE, e.g. --set web.access_mode=per-request")
        try:
            value = load_value(raw)
        except InputInvalid as exc:
            raise ConfigError(f"{origin} {_short(item)}: {exc}") from None
        _assign(data, key.strip(), value, f"{origin} {item}")
    return _validate(data, origin)


def _assign(data: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    parts = dotted.split(".")
    node: Any = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"{origin}: {dotted}: '{part}' is not a section")
    node[parts[-1]] = value
    _validate(data, origin)


def _validate(data: dict[str, Any], origin: str) -> StackConfig:
    try:
        return StackConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {first_error(exc, StackConfig, unknown='key')}") from None


def _short(item: str) -> str:
    """A --set argument as an error message shows it: at most 60 characters, one line."""
    one = item.replace("\n", "\\n")
    return one if len(one) <= 60 else one[:57] + "..."
