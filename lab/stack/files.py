"""Writing files safely: whole-file replacement a reader never sees half of, and appends that
start on a fresh line after a torn one."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path | str, text: str, mode: int | None = None, owner: tuple[int, int] | None = None) -> None:
    """Write `text` beside `path`, give it `mode` (default: 0666 less the umask) and `owner` (uid, gid),
    then replace `path` with it."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666 if mode is None else mode)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    if mode is not None:
        os.chmod(tmp, mode)  # the umask may have narrowed what os.open was given
    if owner is not None:
        os.chown(tmp, *owner)
    os.replace(tmp, target)


def after_torn_line(fd: int) -> bytes:
    """For an append-only JSONL file open on `fd`: a newline when it ends mid-line (a writer died
    mid-write), so the torn line stays alone and the next record is not glued to it; else b""."""
    size = os.fstat(fd).st_size
    return b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""
