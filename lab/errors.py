"""The lab's exceptions: one root, each CLI-facing error carries its exit code.

    LabError                    exit 1: something the lab tried failed
    ├── UsageError              exit 2: bad input (config, arguments, files); nothing was changed
    │   ├── ConfigError         a config file or --set value is wrong
    │   ├── PortInUseError      an explicitly requested port is taken
    │   ├── StackExistsError    `up` of a name that is already up
    │   ├── StackNotFoundError  a command names a stack that is not up
    │   └── MissingDependencyError  PostgreSQL binaries (or another OS part) are missing
    └── StackError              a service failed to start, stop or answer
        └── StartupTimeout      a service did not become healthy in time (carries diagnostics)

Messages are one line, say what is wrong and where, and what to do about it.
"""

from __future__ import annotations

from pathlib import Path


class LabError(Exception):
    """Root of every error the lab raises on purpose."""

    exit_code = 1


class UsageError(LabError):
    """Bad input from the user: nothing was changed."""

    exit_code = 2


class ConfigError(UsageError):
    """A config file or a --set value names an unknown key or an invalid value."""


class PortInUseError(UsageError):
    """A port the user asked for explicitly is already bound by someone else."""

    def __init__(self, message: str, port: int = 0):
        super().__init__(message)
        self.port = port  # 0 when the message does not say which


class StackExistsError(UsageError):
    """`gameday up` for a name that already has a running stack."""


class StackNotFoundError(UsageError):
    """A command names a stack that is not running."""


class MissingDependencyError(UsageError):
    """An OS-level part the lab needs (PostgreSQL server binaries, ...) is not installed."""


class StackError(LabError):
    """A service of the stack failed to start, stop or answer."""


class StartupTimeout(StackError):
    """A service did not become healthy in time; the message carries its last log lines."""


def display(path: Path) -> str:
    """A file as error messages name it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
