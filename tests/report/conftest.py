"""Fixtures: a run directory of the March scenario, written as a drill writes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from report_helpers import write_run


@pytest.fixture
def run_dir(run_root: Path) -> Path:
    return write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue")


@dataclass
class Out:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(run_root: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Out]:
    """Runs `gameday ...` in this process (the real entry point, exit codes included)."""
    from lab.cli import main

    def run(*args: str) -> Out:
        capsys.readouterr()
        with pytest.raises(SystemExit) as info:
            main(list(args))
        out = capsys.readouterr()
        return Out(int(info.value.code or 0), out.out, out.err)

    return run
