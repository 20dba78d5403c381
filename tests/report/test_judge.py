"""`gameday score --accept/--reject`: the facilitator's verdict on a hypothesis the runbook's words did
not place is recorded on the run's timeline and changes the card; bad input is one line, exit 2,
nothing written. `gameday note --help` lists the hypotheses on offer."""

from __future__ import annotations

import json

from report_helpers import PATH, write_run

from lab.core.timeline import Source
from lab.timeline.store import TimelineStore

# the team's diagnosis in words the vocabulary does not know (event 10 in PATH's numbering)
OWN_WORDS = [(t, s, k, d) if not (k == "note" and d["args"].get("hypothesis") == "db-connections-exhausted")
             else (t, s, k, {"action": "note", "args": {"hypothesis": "sessions-hoarded", "text": "arcade hoards them"}})
             for t, s, k, d in PATH]


def _card(cli, *args):
    out = cli("score", "--json", *args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)["card"]


def test_accepting_an_unmatched_hypothesis_is_recorded_and_counts_as_the_diagnosis(cli, run_root):
    run_dir = write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue", OWN_WORDS)
    before = _card(cli)
    assert before["unmatched"] == [[10, "sessions-hoarded"]] and before["phases"]["diagnosis_s"] is None
    text = cli("score").stdout
    assert "unmatched hypothesis 'sessions-hoarded' (event 10)" in text and "--accept 10" in text
    after = _card(cli, "--accept", "10", "--by", "fran")
    assert after["total"] > before["total"] and after["phases"]["diagnosis_s"] == 170
    assert after["judged"] == [[10, "db-connections-exhausted"]] and after["unmatched"] == []
    verdict = TimelineStore(run_dir / "events.jsonl").read()[-1]
    assert (verdict.kind, verdict.source, verdict.actor, verdict.data) == (
        "diagnosis.accepted", Source.FACILITATOR, "fran", {"event": 10, "hypothesis": "db-connections-exhausted"})
    rejected = _card(cli, "--reject", "10")
    assert rejected["judged"] == [[10, "rejected"]] and rejected["total"] <= before["total"]


def test_bad_verdicts_are_one_line_and_write_nothing(cli, run_root):
    run_dir = write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue", OWN_WORDS)
    size = (run_dir / "events.jsonl").stat().st_size
    for args, message in [
        (("--accept", "5"), "--accept 5: not a note of run"),
        (("--accept", "999"), "--accept 999: not a note of run"),
        (("--accept", "10", "--as", "gremlins"), "--as gremlins: unknown hypothesis"),
        (("--as", "db-overloaded"), "--as: only with --accept EVENT"),
        (("--accept", "10", "--reject", "10"), "--accept and --reject: give one of them"),
    ]:
        out = cli("score", *args)
        assert out.returncode == 2 and message in out.stderr, (args, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
    assert (run_dir / "events.jsonl").stat().st_size == size


def test_note_help_offers_right_and_wrong_causes(cli):
    out = cli("note", "--help")
    assert out.returncode == 0
    listed = out.stdout.split("Hypotheses (", 1)[1]
    for tag in ("db-connections-exhausted", "network-failure", "web-overloaded", "lock-queue"):
        assert tag in listed


def test_a_change_before_any_hypothesis_is_named_in_the_report(cli, run_root):
    unexplained = [step for step in PATH if step[2] != "note"]  # the team fixed it without noting a cause
    run_dir = write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue", unexplained)
    out = cli("report", str(run_dir))
    assert out.returncode == 0, out.stderr
    report = (run_dir / "report.md").read_text()
    assert "Red herring unexplained-change: a change with no hypothesis noted before it" in report
    assert "blind fix" not in report  # it looked at the database first: informed, just unexplained
