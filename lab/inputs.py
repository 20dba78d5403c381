"""Files the lab reads from people, read with a size cap and handed to lab.core.safe_input.

    path ──open, read at most limit + 1 bytes──▶ bytes ──safe_input──▶ text | data
                                                  └─ any failure: UsageError `<file>: <what is wrong>`

The pure checks (UTF-8, YAML and JSON limits) live in lab.core.safe_input; this module only
opens files, so memory stays bounded whatever the file is (a 10 GB file, /dev/zero, a FIFO
that never ends are not read past the limit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lab.core.safe_input import SCENARIO, InputInvalid, Limits, decode, load_yaml
from lab.errors import UsageError, display


def read_capped(path: Path, limits: Limits = SCENARIO, error: type[UsageError] = UsageError,
                name: str | None = None) -> bytes:
    """The bytes of `path`, at most limits.max_bytes of them; `error` naming the file otherwise."""
    shown = name or display(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise error(f"{shown}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_bytes:
        raise error(f"{shown}: larger than the limit of {_size(limits.max_bytes)}")
    return data


def read_text(path: Path, limits: Limits = SCENARIO, error: type[UsageError] = UsageError,
              name: str | None = None) -> str:
    """The text of `path`: size-capped, strict UTF-8; `error` naming the file and the byte offset."""
    data = read_capped(path, limits, error, name)
    try:
        return decode(data, limits)
    except InputInvalid as exc:
        raise error(f"{name or display(path)}: {exc}") from None


def read_yaml(path: Path, limits: Limits = SCENARIO, error: type[UsageError] = UsageError,
              name: str | None = None) -> Any:
    """The YAML data of `path` (see safe_input.load_yaml); `error` naming the file."""
    data = read_capped(path, limits, error, name)
    try:
        return load_yaml(data, limits)
    except InputInvalid as exc:
        raise error(f"{name or display(path)}: {exc}") from None


def _size(n: int) -> str:
    return f"{n >> 20} MiB" if n >= 1 << 20 and n % (1 << 20) == 0 else f"{n:,} bytes"
