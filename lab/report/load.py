"""Read what the scorer and the reports need from disk: runbooks, and a run directory's files.

    <root>/runs/<run-id>/ scenario.yaml, events.jsonl, sli.jsonl ──▶ Run(scenario, runbook, timeline)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lab.core.original import MARCH_2023, OriginalPath
from lab.core.runbook import Runbook, RunbookInvalid, parse_runbook
from lab.core.scenario import Scenario
from lab.core.scoring import Sample, Timeline
from lab.errors import UsageError
from lab.timeline.store import TimelineStore

PROJECT = Path(__file__).resolve().parents[2]
RUNBOOK_DIR = PROJECT / "runbooks"


@dataclass(frozen=True)
class Run:
    """One drill's record, ready to score and report."""

    run_dir: Path
    scenario: Scenario
    runbook: Runbook
    timeline: Timeline
    original: OriginalPath = MARCH_2023  # the incident the scenario retells, as it really went


def display(path: Path) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_runbook(path: Path) -> Runbook:
    """A validated Runbook, or UsageError `runbooks/x.md: steps[2].match.acton: unknown field; ...`."""
    from lab.actions import ACTIONS

    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"{display(path)}: cannot read: {exc.strerror}") from None
    try:
        return parse_runbook(text, ACTIONS)
    except RunbookInvalid as exc:
        raise UsageError(f"{display(path)}: {exc}") from None


def runbook_path(name: str, near: Path | None = None) -> Path:
    """runbooks/<name>.md beside a scenarios/ directory, else the project's."""
    if near is not None:
        candidate = near.resolve().parent.parent / "runbooks" / f"{name}.md"
        if candidate.is_file():
            return candidate
    return RUNBOOK_DIR / f"{name}.md"


def read_samples(path: Path) -> tuple[Sample, ...]:
    """The probe's per-second samples after the drill started (a torn line is skipped)."""
    out = []
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return ()
    for line in lines:
        try:
            rec = json.loads(line)
            if not rec.get("started", True):
                continue
            probe = rec["probe"]
            out.append(Sample(float(rec["offset_s"]), int(probe["total"]), int(probe["ok"]), probe.get("p95_s")))
        except (ValueError, KeyError, TypeError):
            continue
    return tuple(out)


def resolve_run(ref: str | None, root: Path) -> Path:
    """A run given as a path, a run id under <root>/runs/, or the latest run."""
    runs = root / "runs"
    if ref is None:
        found = sorted((p for p in runs.glob("*") if (p / "events.jsonl").is_file()), key=lambda p: p.name)
        if not found:
            raise UsageError(f"no runs under {display(runs)}; run `gameday drill ...` first")
        return found[-1]
    for candidate in (Path(ref), runs / ref):
        if (candidate / "events.jsonl").is_file():
            return candidate
    known = sorted(p.name for p in runs.glob("*"))
    from lab.core.errors import did_you_mean

    raise UsageError(f"no run '{ref}' (neither a run directory nor a run id under {display(runs)}){did_you_mean(ref, known)}")


def load_run(run_dir: Path) -> Run:
    """The scenario (as run), its runbook, the events and the probe samples of one run directory."""
    from lab.runner import scenarios

    scenario_file = run_dir / "scenario.yaml"
    if not scenario_file.is_file():
        raise UsageError(f"{display(run_dir)}: no scenario.yaml; not a drill run directory")
    scenario, _ = scenarios.load(scenario_file, runbooks=scenarios.runbook_names())
    runbook = load_runbook(runbook_path(scenario.runbook))
    events = tuple(TimelineStore(run_dir / "events.jsonl").read())
    from lab.report.originals import load_original

    return Run(run_dir, scenario, runbook, Timeline(events, read_samples(run_dir / "sli.jsonl")), load_original(scenario))
