"""Every listing command piped, as scripts and CI use them: whole values in tab-separated rows,
`--json` that parses and matches its schema in lab/schemas (docs/json-output.md), NO_COLOR
honoured on a terminal, and the exit codes `gameday --help` states."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pexpect
import pytest

import lab
from lab.catalog import CATALOG
from lab.faults import FAULTS
from lab.verify.cli import summary_json
from lab.verify.model import Check, ScenarioReport, Status

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")  # an SGR colour
SCHEMAS = Path(lab.__file__).parent / "schemas"
IDS = [p.stem for p in CATALOG.scenario_files()]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "report"))
from report_helpers import write_run  # noqa: E402


def validate(instance: object, schema_name: str) -> None:
    schema = json.loads((SCHEMAS / schema_name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(instance)


def piped(*args: str, root: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`gameday ARGS` with stdout a pipe (no COLUMNS: a script's environment)."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    if root is not None:
        base["GAMEDAY_ROOT"] = str(root)
    return subprocess.run([sys.executable, "-m", "lab.cli", *args], capture_output=True, text=True, timeout=120,
                          env={**base, **(env or {})})


def on_a_terminal(*args: str, env: dict[str, str] | None = None, columns: int = 80) -> str:
    """What `gameday ARGS` shows in a terminal of `columns` columns."""
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    child = pexpect.spawn(sys.executable, ["-m", "lab.cli", *args], env={**base, "TERM": "xterm-256color", **(env or {})},
                          encoding="utf-8", timeout=60, dimensions=(50, columns))
    out = child.read()
    child.close()
    assert child.exitstatus == 0, out
    return out


@pytest.fixture
def run_dir(run_root: Path) -> Path:
    return write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue")


def test_list_piped_is_one_whole_row_per_scenario():
    done = piped("list")
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines()]
    assert [row[0] for row in rows] == IDS  # whole ids, no header, nothing cut
    assert all(len(row) == 4 for row in rows) and "…" not in done.stdout
    grep = subprocess.run("gameday list | grep flagsmith | cut -f1", shell=True, capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                               "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=60)
    assert grep.stdout.split() == [i for i in IDS if "flagsmith" in i]


def test_list_on_a_narrow_terminal_wraps_titles_but_never_an_id():
    shown = on_a_terminal("list", columns=80)
    assert all(f"│ {i} " in shown for i in IDS)


def test_list_json_matches_its_schema():
    done = piped("list", "--json")
    assert done.returncode == 0, done.stderr
    scenarios = json.loads(done.stdout)
    validate(scenarios, "list.json")
    assert [s["id"] for s in scenarios] == IDS


def test_faults_piped_and_json(run_root):
    done = piped("faults", "--name", "nostack", root=run_root)
    assert done.returncode == 0, done.stderr
    assert [line.split("\t")[0] for line in done.stdout.splitlines()] == list(FAULTS)
    as_json = piped("faults", "--name", "nostack", "--json", root=run_root)
    assert as_json.returncode == 0, as_json.stderr
    found = json.loads(as_json.stdout)
    validate(found, "faults.json")
    assert [k["kind"] for k in found["kinds"]] == list(FAULTS)
    assert found["stack_up"] is False and found["active"] == []


def test_timeline_piped_keeps_whole_lines_and_json_lines_match_the_event_schema(run_root, run_dir):
    done = piped("timeline", run_dir.name, root=run_root)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout  # no colour into a pipe
    assert "text=TODO: add PgBouncer & an alert on connections" in done.stdout
    as_json = piped("timeline", run_dir.name, "--json", root=run_root)
    lines = as_json.stdout.splitlines()
    assert len(lines) == len(done.stdout.splitlines()) == 15
    for line in lines:
        validate(json.loads(line), "event.json")


def test_score_json_matches_its_schema(run_root, run_dir):
    done = piped("score", run_dir.name, "--json", root=run_root)
    assert done.returncode == 0, done.stderr
    card = json.loads(done.stdout)
    validate(card, "score.json")
    assert card["run"] == run_dir.name and card["outcome"] == "recovered"


def test_verify_summary_json_matches_its_schema():
    report = ScenarioReport("march-2023-db-overload", "scenarios/march-2023-db-overload.yaml", "local", 10.0,
                            checks=[Check("steady_state", Status.PASSED, 1.5, "availability >= 99 %", "100 %"),
                                    Check("recovery", Status.FAILED, 70.0, "recovered within 70 drill s", "never",
                                          (("availability", 0.5),))], seconds=75.0, kept="/tmp/run")
    summary = summary_json([report], 80.0, "local", 10.0, halted=False)
    validate(json.loads(json.dumps(summary)), "verify.json")
    assert summary["passed"] is False and summary["exit_code"] == 1
    assert summary["scenarios"][0]["checks"][1]["message"] == "recovery: expected recovered within 70 drill s; measured never"


@pytest.mark.integration
def test_verify_json_of_a_failing_scenario_is_the_only_thing_on_stdout(run_root):
    fixture = Path(__file__).resolve().parents[1] / "verify" / "fixtures" / "scenarios" / "harmless-fault.yaml"
    done = piped("verify", "--json", "--jobs", "1", str(fixture), root=run_root)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)  # stdout is the JSON and nothing else
    validate(summary, "verify.json")
    assert summary["passed"] is False and summary["exit_code"] == 1
    [scenario] = summary["scenarios"]
    failed = {c["name"] for c in scenario["checks"] if c["status"] == "failed"}
    assert "slo_breach" in failed and scenario["kept"]
    assert "verify-harmless-fault: slo_breach: expected availability < 95.0 %" in done.stderr  # progress for people


def test_verify_json_on_bad_input_prints_nothing_on_stdout_and_exits_2():
    done = piped("verify", "--json", "no-such-scenario")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("Error: unknown scenario 'no-such-scenario'")


@pytest.mark.integration
def test_status_shows_its_urls_piped_and_on_a_terminal_and_json_matches_its_schema(make_stack, run_root):
    stack = make_stack()
    as_json = piped("status", "--name", stack.name, "--json", root=run_root)
    assert as_json.returncode == 0, as_json.stderr
    status = json.loads(as_json.stdout)
    validate(status, "status.json")
    assert status["urls"] and status["healthy"] is True
    done = piped("status", "--name", stack.name, root=run_root)
    assert done.returncode == 0, done.stderr
    rows = [line.split("\t") for line in done.stdout.splitlines() if line]
    assert [row[0] for row in rows[:len(status["services"])]] == [s["name"] for s in status["services"]]
    assert [row for row in rows if len(row) == 2] == [[label, url] for label, url in status["urls"].items()]
    shown = on_a_terminal("status", "--name", stack.name, "--root", str(run_root), columns=100)
    assert all(url in shown for url in status["urls"].values())
    load = piped("load", "show", "--name", stack.name, "--json", root=run_root)
    assert load.returncode == 0, load.stderr
    validate(json.loads(load.stdout), "load.json")


def test_the_status_schema_names_every_kind_of_stack():
    from lab.stack.open import KINDS

    schema = json.loads((SCHEMAS / "status.json").read_text())
    assert set(KINDS) <= set(schema["properties"]["mode"]["enum"])


def test_no_color_is_honoured_on_a_terminal(run_root, run_dir):
    coloured = on_a_terminal("timeline", run_dir.name, "--root", str(run_root))
    plain = on_a_terminal("timeline", run_dir.name, "--root", str(run_root), env={"NO_COLOR": "1"})
    assert "\x1b[" in coloured and "\x1b[" not in plain
    assert "TODO: add PgBouncer" in plain
    table = on_a_terminal("list", env={"NO_COLOR": "1"}, columns=200)
    assert not COLOUR.search(table) and "id" in table and "┏" in table  # a table for people, bold but no colour


def test_help_states_the_exit_codes_and_the_output_conventions():
    done = piped("--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "Exit codes: 0 done" in text and "2 bad input" in text and "130 interrupted" in text
    assert "NO_COLOR" in text and "docs/json-output.md" in text and "gameday completion bash" in text
