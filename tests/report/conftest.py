"""Fixtures: a run directory of the March scenario, written as a drill writes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_helpers import write_run


@pytest.fixture
def run_dir(run_root: Path) -> Path:
    return write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue")
