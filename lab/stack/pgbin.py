"""Find the PostgreSQL server binaries: LAB_PG_BIN, `pg_config --bindir`, Debian's versioned dirs, PATH."""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lab.errors import MissingDependencyError

NEEDED = ("postgres", "initdb")
INSTALL_HINT = "install them with `apt-get install postgresql` (Debian/Ubuntu) or point LAB_PG_BIN at their directory"


@dataclass(frozen=True)
class PgBin:
    """Where the server binaries live, and their major version."""

    bindir: Path
    version: str

    def tool(self, name: str) -> str:
        return str(self.bindir / name)


def _has_server(directory: str | None) -> bool:
    return bool(directory) and all(os.access(os.path.join(directory, n), os.X_OK) for n in NEEDED)  # type: ignore[arg-type]


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([\d.]+)/bin$", path)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)


def candidates() -> list[str]:
    """Directories searched, in order."""
    found: list[str] = []
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=5)
        if out.returncode == 0:
            found.append(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    found += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    on_path = shutil.which("postgres")
    if on_path:
        found.append(str(Path(on_path).resolve().parent))
    return found


def find_pg_bin() -> PgBin:
    """Locate the server binaries or raise MissingDependencyError with the fix."""
    explicit = os.environ.get("LAB_PG_BIN")
    if explicit:
        if not _has_server(explicit):
            raise MissingDependencyError(
                f"LAB_PG_BIN={explicit}: no PostgreSQL server binaries (postgres, initdb) there; {INSTALL_HINT}"
            )
        return _with_version(Path(explicit))
    for directory in candidates():
        if _has_server(directory):
            return _with_version(Path(directory))
    raise MissingDependencyError(f"PostgreSQL server binaries (postgres, initdb) not found; {INSTALL_HINT}")


def _with_version(bindir: Path) -> PgBin:
    out = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10)
    match = re.search(r"(\d+)(?:\.(\d+))?", out.stdout)
    version = match.group(1) if match else "unknown"
    return PgBin(bindir=bindir, version=version)
