"""`gameday score RUN` and `gameday report RUN`: the score card and the postmortem draft of a drill."""

from __future__ import annotations

import getpass
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from lab.completion import run_ids
from lab.core.scoring import ScoreCard, score as score_run
from lab.core.errors import did_you_mean
from lab.core.safe_text import terminal
from lab.errors import UsageError, display
from lab.output import print_json
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
    return click.argument("run_ref", metavar="[RUN]", required=False, shell_complete=run_ids)(fn)


@click.command()
@run_option
@click.option("--json", "as_json", is_flag=True, help="Print the score card as JSON (schema: lab/schemas/score.json).")
@click.option("--accept", "accept", type=int, metavar="EVENT", default=None,
              help="Accept the hypothesis of note EVENT that the runbook's words did not place (recorded on the "
                   "run's timeline as yours; the card counts it as the diagnosis, or as --as says).")
@click.option("--as", "as_hypothesis", metavar="HYPOTHESIS", default=None,
              help="With --accept: the hypothesis the note names [default: the runbook's correct one].")
@click.option("--reject", "reject", type=int, metavar="EVENT", default=None,
              help="Reject the hypothesis of note EVENT (recorded; it counts as no diagnosis).")
@click.option("--by", "by", default=getpass.getuser, show_default="your login name", help="Who judges (the facilitator).")
def score(run_ref: str | None, as_json: bool, accept: int | None, as_hypothesis: str | None, reject: int | None,
          by: str, root: Path | None) -> None:
    """Score a drill against its runbook (RUN: a run id, a run directory; default: the latest run).

    A hypothesis in the team's own words that the runbook's vocabulary does not know is listed on
    the card as unmatched; --accept EVENT or --reject EVENT records the facilitator's verdict."""
    run = load_run(resolve_run(run_ref, _root(root)))
    if accept is not None or reject is not None or as_hypothesis is not None:
        judge(run, accept, reject, as_hypothesis, by)
        run = load_run(run.run_dir)
    card, original = scored(run)
    if as_json:
        print_json({"run": run.run_dir.name, "card": card.to_dict(), "original_total": original.total,
                    "outcome": facts.outcome_of(run.timeline)}, sort_keys=True)
    else:
        click.echo(terminal(card_text(card, original, run.original.name, facts.outcome_of(run.timeline)), keep="\n"))


def judge(run: Run, accept: int | None, reject: int | None, as_hypothesis: str | None, by: str) -> None:
    """Record the facilitator's verdict on one note's hypothesis (UsageError, nothing written, on bad input)."""
    from lab.core.timeline import Source
    from lab.timeline.store import TimelineStore

    if accept is not None and reject is not None:
        raise UsageError("--accept and --reject: give one of them")
    if as_hypothesis is not None and accept is None:
        raise UsageError("--as: only with --accept EVENT")
    event_id = accept if accept is not None else reject
    option = "--accept" if accept is not None else "--reject"
    note = next((e for e in run.timeline.events if e.id == event_id), None)
    if note is None or note.kind != "note":
        raise UsageError(f"{option} {event_id}: not a note of run {run.run_dir.name} "
                         "(the card lists the unmatched hypotheses with their event numbers)")
    known = [h.id for h in run.runbook.vocabulary()]
    if as_hypothesis is not None and as_hypothesis not in known:
        raise UsageError(f"--as {as_hypothesis}: unknown hypothesis{did_you_mean(as_hypothesis, known)}; "
                         f"one of {', '.join(sorted(known))}")
    verdict = as_hypothesis or (run.runbook.diagnosis.hypotheses[0] if run.runbook.diagnosis else "")
    last = max((e.offset_s for e in run.timeline.events), default=0.0)
    kind = "diagnosis.accepted" if accept is not None else "diagnosis.rejected"
    data: dict[str, Any] = {"event": event_id}
    if accept is not None:
        data["hypothesis"] = verdict
    TimelineStore(run.run_dir / rundir.EVENTS).append(Source.FACILITATOR, kind, by, data, offset_s=last)


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
    click.echo(terminal(card_text(card, original, run.original.name, facts.outcome_of(run.timeline)), keep="\n"))
    click.echo(f"postmortem draft: {display(md)}\nreport: {display(page)}")
