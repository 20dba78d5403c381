"""The drill the toolbox tests act in (one for the package: tests/quiet_drill.py)."""

from __future__ import annotations

import pytest

from quiet_drill import running_drill


@pytest.fixture(scope="package")
def drill(tmp_path_factory):  # type: ignore[no-untyped-def]
    yield from running_drill(tmp_path_factory)
