"""`gameday score RUN` and `gameday report RUN`: the score card and the postmortem draft of a drill."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lab.core.scoring import ScoreCard, score as score_run
from lab.errors import display
from lab.report import facts
from lab.report.card import card_text
from lab.report.run import Run, load_run
from lab.stack.state import default_root
from lab.timeline import rundir
from lab.timeline.rundir import resolve_run


def _root(root: Path | None) -> Path:
    return root or default_root()


def scored(run: Run) -> tuple[ScoreCard, ScoreCard]:
    """The run's card and the original path's card."""
    return score_run(run.timeline, run.runbook, run.scenario), facts.original_card(run.runbook, run.scenario, run.original)


def write_reports(run: Run, card: ScoreCard, original: ScoreCard, out: Path | None = None) -> tuple[Path, Path]:
    """Write report.md and report.html (into the run directory by default); return their paths."""
    from lab.report import html, markdown

    target = out or run.run_dir
    target.mkdir(parents=True, exist_ok=True)
    md, page = target / rundir.REPORT_MD, target / rundir.REPORT_HTML
    md.write_text(markdown.render(run, card, original))
    page.write_text(html.render(run, card, original))
    return md, page


F = TypeVar("F", bound=Callable[..., Any])


def run_option(fn: F) -> F:
    """RUN, and --root like the stack commands' (envvar GAMEDAY_ROOT)."""
    fn = click.option("--root", type=click.Path(file_okay=False, path_type=Path), envvar="GAMEDAY_ROOT", default=None,
                      help="Run root holding runs/ [default: .gameday, or $GAMEDAY_ROOT].")(fn)
    return click.argument("run_ref", metavar="[RUN]", required=False)(fn)


@click.command()
@run_option
@click.option("--json", "as_json", is_flag=True, help="Print the score card as JSON.")
def score(run_ref: str | None, as_json: bool, root: Path | None) -> None:
    """Score a drill against its runbook (RUN: a run id, a run directory; default: the latest run)."""
    run = load_run(resolve_run(run_ref, _root(root)))
    card, original = scored(run)
    if as_json:
        click.echo(json.dumps({"run": run.run_dir.name, "card": card.to_dict(), "original_total": original.total,
                               "outcome": facts.outcome_of(run.timeline)}, sort_keys=True, indent=2))
    else:
        click.echo(card_text(card, original, run.original.name, facts.outcome_of(run.timeline)))


@click.command()
@run_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Directory for the reports [default: the run's].")
def report(run_ref: str | None, out: Path | None, root: Path | None) -> None:
    """Write report.md (postmortem draft) and report.html (charts, score card, the original beside it)."""
    started = time.monotonic()
    run = load_run(resolve_run(run_ref, _root(root)))
    card, original = scored(run)
    md, page = write_reports(run, card, original, out)
    click.echo(f"wrote {display(md)} and {display(page)} in {time.monotonic() - started:.1f} s")


def after_drill(run_dir: Path) -> None:
    """What a drill prints at its end: the score card and where the reports are."""
    run = load_run(run_dir)
    card, original = scored(run)
    md, page = write_reports(run, card, original)
    click.echo(card_text(card, original, run.original.name, facts.outcome_of(run.timeline)))
    click.echo(f"postmortem draft: {display(md)}\nreport: {display(page)}")
