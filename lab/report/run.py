"""One drill's record, read back for the scorer and the reports.

    <root>/runs/<run-id>/ scenario.yaml, events.jsonl, sli.jsonl ──load_run──▶ Run(scenario, runbook, timeline, original)
                          (names and the SLI reader: lab.timeline.rundir; scenario, runbook, original: lab.catalog)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lab.catalog import CATALOG, Catalog
from lab.core.original import OriginalPath
from lab.core.runbook import Runbook
from lab.core.scenario import Scenario
from lab.core.scoring import Timeline
from lab.errors import UsageError, display
from lab.timeline import rundir
from lab.timeline.store import TimelineStore


@dataclass(frozen=True)
class Run:
    """One drill's record, ready to score and report."""

    run_dir: Path
    scenario: Scenario
    runbook: Runbook
    timeline: Timeline
    original: OriginalPath  # the incident the scenario retells, as it really went


def load_run(run_dir: Path, catalog: Catalog = CATALOG) -> Run:
    """The scenario (as run), its runbook and original path, the events and the probe samples of one run."""
    scenario_file = run_dir / rundir.SCENARIO
    if not scenario_file.is_file():
        raise UsageError(f"{display(run_dir)}: no {rundir.SCENARIO}; not a drill run directory")
    scenario, _ = catalog.load(scenario_file, runbooks=catalog.runbook_names())
    events = tuple(TimelineStore(run_dir / rundir.EVENTS).read())
    return Run(run_dir, scenario, catalog.runbook(scenario.runbook), Timeline(events, rundir.read_samples(run_dir)),
               catalog.original(scenario))
