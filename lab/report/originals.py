"""Find and read a scenario's original path: `scenarios/originals/<name>.yaml`, named by the
scenario's `based_on.original`; without one, the built-in March 2023 path.

Errors name the file and the field: `scenarios/originals/x.yaml: steps[2].at_min: ...`.
"""

from __future__ import annotations

from pathlib import Path

from lab.core.errors import did_you_mean
from lab.core.original import MARCH_2023, OriginalInvalid, OriginalPath, parse_original
from lab.core.scenario import Scenario
from lab.errors import UsageError

PROJECT = Path(__file__).resolve().parents[2]
ORIGINALS_DIR = PROJECT / "scenarios" / "originals"


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def originals_dir(near: Path | None = None) -> Path:
    """scenarios/originals/ beside a scenario file's directory, else the project's."""
    if near is not None:
        candidate = near.resolve().parent / "originals"
        if candidate.is_dir():
            return candidate
    return ORIGINALS_DIR


def load_original(scenario: Scenario, near: Path | None = None) -> OriginalPath:
    """The scenario's original path, validated; UsageError naming the file or field otherwise."""
    name = scenario.based_on.original if scenario.based_on else None
    if name is None:
        return MARCH_2023
    directory = originals_dir(near)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in directory.glob("*.yaml"))
        raise UsageError(f"based_on.original: no original path '{name}' in {_display(directory)}{did_you_mean(name, known)}")
    try:
        return parse_original(path.read_text())
    except OSError as exc:
        raise UsageError(f"{_display(path)}: cannot read: {exc.strerror}") from None
    except OriginalInvalid as exc:
        raise UsageError(f"{_display(path)}: {exc}") from None
