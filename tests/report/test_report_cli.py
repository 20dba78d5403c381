"""`gameday score` and `gameday report` on a run directory: deterministic cards, the seed's sections,
an HTML page that parses and renders in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import html5lib
import pytest
from PIL import Image

from report_helpers import PROJECT

SEED_SECTIONS = ["## Issue Summary", "## Timeline", "## Root Cause and Resolution", "## Corrective and Preventative Measures"]


def test_score_text_names_points_reasons_and_evidence(cli, run_dir):
    result = cli("score", run_dir.name)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("Score ") and "(par 70: at or above par)" in out
    assert "1 red herring(s) (blame-network)" in out and "[events 7]" in out
    assert "The original March 2023 path scores" in out


def test_score_json_is_recomputed_identically_from_the_files(cli, run_dir):
    first, second = cli("score", str(run_dir), "--json"), cli("score", "--json")  # by path, then the latest
    assert first.returncode == second.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    card = json.loads(first.stdout)["card"]
    assert {c["key"] for c in card["components"]} == {"impact", "phase_times", "diagnosis", "adherence",
                                                      "coordination", "learning"}
    assert all(c["rating"] in "PSMU" for c in card["components"])
    assert json.loads(first.stdout)["original_total"] < card["total"]


def test_report_md_has_the_seed_sections_and_the_run_facts(cli, run_dir):
    result = cli("report", run_dir.name)
    assert result.returncode == 0, result.stderr
    md = (run_dir / "report.md").read_text()
    positions = [md.index(h) for h in SEED_SECTIONS]
    assert positions == sorted(positions)
    assert "From T+00:50 to T+03:40 (2 min 50 s), Arcade failed for players: 100% of the probe's" in md
    assert "* add PgBouncer & an alert on connections (team note)" in md
    assert "* An alert on database connections above 90 % of max_connections." in md
    assert "The issue was resolved by: Action terminate-idle-connections" in md
    assert "| players no longer affected | 2 min 40 s | 2 h 30 min |" in md
    assert "* 75 min: The team increased the server capacity, which did not resolve the issue." in md


def test_report_html_parses_and_renders_in_headless_chromium(cli, run_dir, tmp_path):
    assert cli("report", run_dir.name).returncode == 0
    page = (run_dir / "report.html").read_text()
    html5lib.HTMLParser(strict=True).parse(page)  # raises on any parse error
    assert page.count("<svg") == 2  # the charts are inline
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//|<link|<script|@import""", page)  # nothing fetched
    assert "network &lt;flaky&gt;?" in page
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "headless Chromium is needed: apt-get install chromium"
    png = tmp_path / "report.png"
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--window-size=1200,1600", f"--screenshot={png}", (run_dir / "report.html").as_uri()],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and png.is_file(), proc.stderr[-500:]
    with Image.open(png) as img:
        assert img.size == (1200, 1600)
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50  # text and charts, not a blank page


@pytest.mark.parametrize("args, message", [
    (("score", "no-such-run"), "Error: no run 'no-such-run'"),
    (("report", "--out"), "Error: Option '--out' requires an argument."),
])
def test_bad_run_arguments_exit_2(cli, run_dir, args, message):
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr


def test_a_runbook_with_a_cycle_in_after_gets_one_line_naming_file_and_field(tmp_path):
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "scenarios").mkdir()
    text = (PROJECT / "runbooks" / "db-connection-exhaustion.md").read_text()
    broken = text.replace('{id: ack, title: "Acknowledge the alert", match:', '{id: ack, title: "Acknowledge", after: [ic], match:')
    assert broken != text
    (tmp_path / "runbooks" / "db-connection-exhaustion.md").write_text(broken)
    (tmp_path / "scenarios" / "m.yaml").write_text((PROJECT / "scenarios" / "march-2023-db-overload.yaml").read_text())
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "validate", "scenarios/m.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: runbooks/db-connection-exhaustion.md: steps[0].after: cycle ack -> ic -> ack"
