"""What the reports and the score card say about escalation answers and the drill's end: who answered
a page, after how long and what they said; "resolved" and "resolved too early" with the lab's evidence."""

from __future__ import annotations

import json

import html5lib
import pytest

from lab.core.timeline import Source
from report_helpers import PATH, write_run

ANSWER = ("network team here: the network is clean: TCP connect 0.2 ms to every service, "
          "no loss; look elsewhere")
BEFORE_END = [row for row in PATH if row[2] not in ("drill.recovered", "drill.ended")] + [
    (115, Source.TEAM, "escalate", {"action": "escalate", "args": {"team": "network"}, "ok": True}),
    (235, Source.FACILITATOR, "escalation.answered", {"team": "network", "asked_at_s": 115.0, "delay_s": 120.0,
                                                      "text": ANSWER}),
    (250, Source.TEAM, "resolve", {"action": "resolve", "args": {"summary": "sessions cut, site back"}, "ok": True}),
    (250.5, Source.RUNNER, "drill.resolving", {"by": "ann", "relapse_window_s": 60, "until_s": 310.5}),
]
TOO_EARLY = BEFORE_END + [
    (310.5, Source.RUNNER, "drill.resolved_too_early", {
        "causes_present": [{"step": "leak", "kind": "connection_hog"}], "slo_broken": True, "availability_min": 0.42,
        "reason": "a cause of the outage is still present and the SLO broke again"}),
    (311, Source.RUNNER, "drill.ended", {"outcome": "resolved_too_early"}),
]
RESOLVED = BEFORE_END + [
    (310.5, Source.RUNNER, "drill.resolved", {"availability": 1.0, "causes_present": [], "availability_min": 0.995}),
    (311, Source.RUNNER, "drill.ended", {"outcome": "resolved"}),
]


def _run(run_root, path):  # type: ignore[no-untyped-def]
    ordered = sorted(path, key=lambda row: row[0])
    return write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue", ordered, until=320)


def test_report_md_gives_the_escalation_answer_with_its_text_and_who_answered_after_how_long(cli, run_root):
    run_dir = _run(run_root, TOO_EARLY)
    assert cli("report", run_dir.name).returncode == 0
    md = (run_dir / "report.md").read_text()
    line = next(line for line in md.splitlines() if "answered" in line)
    assert line == (f'* T+03:55: The network team answered the page of T+01:55, 2 min 00 s after the page: "{ANSWER}"  `#14`'), line
    page = (run_dir / "report.html").read_text()
    html5lib.HTMLParser(strict=True).parse(page)
    assert "The network team answered the page of T+01:55, 2 min 00 s after the page: &quot;network team here" in page


def test_resolved_too_early_is_named_with_the_lab_evidence_everywhere(cli, run_root):
    run_dir = _run(run_root, TOO_EARLY)
    assert cli("report", run_dir.name).returncode == 0
    md = (run_dir / "report.md").read_text()
    assert "Outcome: resolved too early. Score " in md
    assert ("At T+04:10, ann declared the incident resolved; the lab watches for a relapse for 1 min 00 s "
            "(until T+05:10). At T+05:10: Resolved too early: a cause of the outage is still present and the SLO "
            "broke again; causes still present: leak (connection_hog); the SLO broke again (availability fell to 42%).") in md
    assert "* T+05:11: Drill ended (resolved too early)" in md
    assert "* T+04:10: Incident declared resolved: sessions cut, site back (blue)" in md
    page = (run_dir / "report.html").read_text()
    assert "<strong>Outcome:</strong> resolved too early." in page and "causes still present: leak (connection_hog)" in page
    text = cli("score", run_dir.name)
    assert text.returncode == 0 and text.stdout.splitlines()[1] == "  drill outcome: resolved too early"
    assert json.loads(cli("score", run_dir.name, "--json").stdout)["outcome"] == "resolved_too_early"


def test_resolved_is_named_with_its_evidence(cli, run_root):
    run_dir = _run(run_root, RESOLVED)
    assert cli("report", run_dir.name).returncode == 0
    md = (run_dir / "report.md").read_text()
    assert "Outcome: resolved. Score " in md
    assert ("At T+05:10: Resolved: no cause left and no relapse within the window (availability 100%); "
            "evidence: availability_min=0.995, causes_present=none.") in md
    assert "* T+05:11: Drill ended (resolved)" in md
    assert cli("score", run_dir.name).stdout.splitlines()[1] == "  drill outcome: resolved"


@pytest.mark.parametrize("outcome, words", [("time_limit", "time limit reached"), ("halted", "halted"),
                                            ("recovered", "recovered"), ("something_new", "something new")])
def test_every_outcome_reads_as_words(cli, run_root, outcome, words):
    path = [row for row in PATH if row[2] != "drill.ended"] + [(281, Source.RUNNER, "drill.ended", {"outcome": outcome})]
    run_dir = _run(run_root, path)
    assert cli("report", run_dir.name).returncode == 0
    assert f"Outcome: {words}. Score " in (run_dir / "report.md").read_text()


def test_a_run_without_an_end_says_so_and_the_card_prints_no_outcome(cli, run_root):
    run_dir = _run(run_root, BEFORE_END)
    assert cli("report", run_dir.name).returncode == 0
    md = (run_dir / "report.md").read_text()
    assert "Outcome: unknown. Score " in md and "The lab never gave its verdict (the drill ended first)." in md
    assert "drill outcome" not in cli("score", run_dir.name).stdout
