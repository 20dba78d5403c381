"""Past runs in their real state (running, aborted, or how they ended), named by their team; per
scenario a leaderboard of teams apart from the autopilot and scripted runs; and each run's report
(the facilitator's for every run; a team's for its own run once it has ended: a report tells what
the scenario hides)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import Blueprint, abort, render_template, send_file

from lab.console.auth import require, role
from lab.console.state import BOARDS, Conflict, RunSummary, state
from lab.timeline import rundir

bp = Blueprint("history", __name__)


def leaderboards(runs: list[RunSummary]) -> dict[str, dict[str, list[RunSummary]]]:
    """Scored runs per scenario, and within it per board (teams of people, the autopilot, scripted
    runs: never ranked together), best first (ties: the earlier run)."""
    boards: dict[str, dict[str, list[RunSummary]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        if run.score is not None:
            boards[run.scenario][run.board].append(run)
    return {scenario: {board: sorted(per[board], key=lambda r: (-(r.score or 0), r.started or 0))
                       for board in BOARDS if per.get(board)}
            for scenario, per in sorted(boards.items())}


@bp.get("/history")
@require("team", "facilitator")
def page() -> Any:
    runs = state().summaries()
    return render_template("history.html", runs=runs, boards=leaderboards(runs), board_titles=BOARDS)


@bp.get("/runs/<run_id>/report")
@require("team", "facilitator")
def report(run_id: str) -> Any:
    """A run's report: the facilitator's for any run, the team's for its own run once it has ended."""
    st = state()
    run_dir = st.run_dir(run_id)
    if role() == "team":
        view = st.view()
        if view.watch is None or view.watch.run_dir.name != run_id or view.phase != "ended":
            abort(403)
    page = run_dir / rundir.REPORT_HTML
    if not page.is_file():
        if st.watch(run_dir).refresh().outcome is None:
            raise Conflict(f"run '{run_id}' has not ended; its report is written when it does")
        from lab.report.cli import scored, write_reports
        from lab.report.run import load_run

        run = load_run(run_dir)
        write_reports(run, *scored(run))
    response = send_file(page, mimetype="text/html", max_age=0)
    # the report is one self-contained page with its own inline style and no script
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return response
