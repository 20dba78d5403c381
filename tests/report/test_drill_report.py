"""One real drill: the March autopilot on a real stack ends with a card at or above par and both reports."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]


def test_the_autopilot_drill_prints_its_card_and_report_paths_and_scores_at_par(gameday, run_root):
    result = gameday("drill", "march-2023-db-overload", "--autopilot", "--speed", "10", "--quiet", "--name", "rep",
                     timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "recovered after" in out and "Score " in out and "postmortem draft: " in out and "report: " in out
    (run_dir,) = (run_root / "runs").iterdir()
    assert (run_dir / "report.md").is_file() and (run_dir / "report.html").is_file()
    card = json.loads(gameday("score", "--json").stdout)
    assert card["run"] == run_dir.name
    assert card["card"]["total"] >= card["card"]["par_score"] > card["original_total"], card["card"]
