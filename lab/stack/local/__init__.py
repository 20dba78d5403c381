"""The embedded stack (the default kind): PostgreSQL, [PgBouncer], the fault proxy, Arcade and the
load generator as local processes under the stack's run dir.

    stack.py    the lifecycle: up, down, state, scale, settings, the pooler   (LocalStack)
    specs.py    how each process is run: command line, environment, readiness check
    service.py  one service's processes: restart, stop, start, pause, resume, kill   (LocalService)
"""

from lab.stack.local.stack import LocalStack

__all__ = ["LocalStack"]
