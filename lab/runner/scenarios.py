"""Find and load scenario files, validated against the real registries (faults, actions, alerts,
runbooks on disk). Errors name the file: `scenarios/x.yaml: faults[2].kind: ...`."""

from __future__ import annotations

from pathlib import Path

from lab.actions import ACTIONS
from lab.core.errors import did_you_mean
from lab.core.scenario import Scenario, ScenarioInvalid, parse_scenario
from lab.errors import UsageError
from lab.faults import FAULT_PARAMS

PROJECT = Path(__file__).resolve().parents[2]
SCENARIO_DIR = PROJECT / "scenarios"
RUNBOOK_DIR = PROJECT / "runbooks"


def alert_names() -> list[str]:
    from lab.monitor.rules import default_rules

    return [rule.name for rule in default_rules()]


def runbook_names(directory: Path = RUNBOOK_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.md"))


def scenario_files(directory: Path = SCENARIO_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def resolve(name_or_path: str) -> Path:
    """A scenario given as a file path, or as an id found in scenarios/."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise UsageError(f"{name_or_path}: no such scenario file")
        return path
    candidate = SCENARIO_DIR / f"{name_or_path}.yaml"
    if candidate.is_file():
        return candidate
    known = [p.stem for p in scenario_files()]
    raise UsageError(f"unknown scenario '{name_or_path}'{did_you_mean(name_or_path, known)}")


def load(path: Path, runbooks: list[str] | None = None) -> tuple[Scenario, str]:
    """(Scenario, its text) or UsageError naming the file and the field."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    known_runbooks = runbooks if runbooks is not None else runbook_names(path.resolve().parent.parent / "runbooks")
    if not known_runbooks:
        known_runbooks = runbook_names()
    try:
        scenario = parse_scenario(text, FAULT_PARAMS, known_runbooks, ACTIONS, alert_names())
    except ScenarioInvalid as exc:
        raise UsageError(f"{_display(path)}: {exc}") from None
    from lab.report.load import load_runbook, runbook_path  # the runbook's machine part must be valid too

    load_runbook(runbook_path(scenario.runbook, near=path))
    from lab.report.originals import load_original  # and its original path, when it names one

    load_original(scenario, near=path)
    return scenario, text


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)
