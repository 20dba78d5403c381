"""Write a file so that a reader sees the old content or the new one, never half of it."""

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
