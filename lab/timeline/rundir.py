"""A drill's run directory: the names of its files, finding runs, and the one reader of its SLI log.

    <root>/runs/<run-id>/          RUNS / run id (<time>-<scenario>-<team>)
        scenario.yaml              SCENARIO     the scenario as run
        events.jsonl               EVENTS       the timeline (lab.timeline.store)
        sli.jsonl                  SLI          the probe's seconds, one JSON line each ──parse_sli──▶ SliRecord
        faults.jsonl               FAULTS       this run's part of the fault journal
        report.md, report.html     REPORT_MD, REPORT_HTML
    <stack run dir>/drill.json     DRILL_MARKER the drill running on a stack (lab.timeline.recorder)
    <stack run dir>/drill.go       DRILL_GO     the facilitator's word to start a drill waiting in its lobby

A run directory is one holding `events.jsonl`. An SLI line that does not parse (a torn last line,
a foreign line) is skipped; seconds before the drill started (`"started": false`, the steady-state
check) are left out unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.core.errors import did_you_mean
from lab.core.scoring import Sample
from lab.errors import UsageError, display

RUNS = "runs"
SCENARIO = "scenario.yaml"
EVENTS = "events.jsonl"
SLI = "sli.jsonl"
FAULTS = "faults.jsonl"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
DRILL_MARKER = "drill.json"
DRILL_GO = "drill.go"


# --- finding runs ------------------------------------------------------------------------------


def runs_dir(root: Path) -> Path:
    """Where a lab root keeps its runs."""
    return root / RUNS


def is_run(path: Path) -> bool:
    return (path / EVENTS).is_file()


def list_runs(root: Path) -> list[Path]:
    """Every run directory under <root>/runs, oldest first (run ids start with their UTC time)."""
    return sorted((p for p in runs_dir(root).glob("*") if is_run(p)), key=lambda p: p.name)


def resolve_run(ref: str | None, root: Path) -> Path:
    """A run given as a path, a run id under <root>/runs/, or (None) the latest run."""
    runs = runs_dir(root)
    if ref is None:
        found = list_runs(root)
        if not found:
            raise UsageError(f"no runs under {display(runs)}; run `gameday drill ...` first")
        return found[-1]
    for candidate in (Path(ref), runs / ref):
        if is_run(candidate):
            return candidate
    known = sorted(p.name for p in runs.glob("*"))
    raise UsageError(f"no run '{ref}' (neither a run directory nor a run id under {display(runs)}){did_you_mean(ref, known)}")


# --- the SLI log -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliRecord:
    """One line of sli.jsonl: the probe's second at drill time `offset_s`, and what the monitor saw."""

    offset_s: float
    total: int
    ok: int
    p95_s: float | None = None
    started: bool = True  # False: the steady-state check, before drill time began
    failures: tuple[tuple[str, int], ...] = ()  # ("leaderboard:500", 2), ...
    firing: tuple[str, ...] = ()
    db: dict[str, Any] = field(default_factory=dict)  # ordinary, max_connections, by_state, ... (empty: not read)

    @property
    def availability(self) -> float | None:
        return self.ok / self.total if self.total else None

    @property
    def p95_ms(self) -> float | None:
        return None if self.p95_s is None else self.p95_s * 1000

    def sample(self) -> Sample:
        """This second as the scorer reads it."""
        return Sample(self.offset_s, self.total, self.ok, self.p95_s)


def parse_sli(line: bytes | str) -> SliRecord | None:
    """One SLI line, or None when it does not parse."""
    try:
        rec = json.loads(line)  # not orjson: the monitor's signals may hold NaN
        probe = rec["probe"]
        p95 = probe.get("p95_s")
        return SliRecord(float(rec["offset_s"]), int(probe["total"]), int(probe["ok"]),
                         None if p95 is None else float(p95), bool(rec.get("started", True)),
                         tuple(sorted((str(k), int(v)) for k, v in (probe.get("failures") or {}).items())),
                         tuple(str(a) for a in rec.get("firing") or ()), dict(rec.get("db") or {}))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def parse_sli_lines(lines: Iterable[bytes | str], started_only: bool = True) -> list[SliRecord]:
    """The records of these lines, in order (a line that does not parse is skipped)."""
    out = []
    for line in lines:
        record = parse_sli(line)
        if record is not None and (record.started or not started_only):
            out.append(record)
    return out


def read_sli(run_dir: Path, started_only: bool = True) -> list[SliRecord]:
    """The run's SLI records (those after the drill started, by default); none when there is no log."""
    try:
        raw = (run_dir / SLI).read_bytes()
    except FileNotFoundError:
        return []
    return parse_sli_lines(raw.splitlines(), started_only)


def read_samples(run_dir: Path) -> tuple[Sample, ...]:
    """The probe's samples after the drill started, as the scorer reads them."""
    return tuple(r.sample() for r in read_sli(run_dir))
