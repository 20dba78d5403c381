"""The embedded stack: PostgreSQL, [PgBouncer], the fault proxy, Arcade and the load generator as
local processes under the stack's run dir (the default kind)."""

from lab.stack.local.stack import ALL_SERVICES, PROXY_NAME, LocalStack

__all__ = ["ALL_SERVICES", "PROXY_NAME", "LocalStack"]
