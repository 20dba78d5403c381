"""The scenario commands through the real CLI: validate, list, and bad input that changes nothing."""

from __future__ import annotations

import pytest
import yaml

from lab.catalog import CATALOG

BAD = [
    ("kind: conection_hog", "faults[0].kind: unknown fault 'conection_hog'; did you mean 'connection_hog'?"),
    ("runbook: nope", "runbook: unknown runbook 'nope'"),
    ("title: null", "title: input should be a valid string"),
]


def test_every_shipped_scenario_validates(gameday):
    result = gameday("validate")
    assert result.returncode == 0, result.stderr
    for path in CATALOG.scenario_files():
        assert f"{path}: ok" in result.stdout.replace("\n", "")


def test_list_shows_id_title_difficulty_and_source(gameday):
    result = gameday("list")
    assert result.returncode == 0
    assert "march-2023-db-o" in result.stdout and "medium" in result.stdout


@pytest.mark.parametrize(("change", "message"), BAD)
def test_a_bad_scenario_is_refused_with_one_line_and_nothing_runs(gameday, tmp_path, run_root, change, message):
    doc = yaml.safe_load(CATALOG.resolve("march-2023-db-overload").read_text())
    key, value = change.split(": ")
    if key == "kind":
        doc["faults"][0]["kind"] = value
    else:
        doc[key] = yaml.safe_load(value)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    for command in (("validate", str(path)), ("drill", str(path), "--quiet")):
        result = gameday(*command)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2 and len(lines) == 1, result.stderr
        assert lines[0].startswith(f"Error: {path}: {message}"), lines[0]
    assert not run_root.exists() or not list(run_root.glob("*/state.json"))
    assert not run_root.exists() or not list(run_root.glob("*/faults.jsonl"))


def test_unknown_scenario_and_fault_names(gameday):
    result = gameday("drill", "march-2023-db-overlod")
    assert result.returncode == 2 and "did you mean 'march-2023-db-overload'?" in result.stderr
    result = gameday("inject", "conection_hog")
    assert result.returncode == 2 and "did you mean 'connection_hog'?" in result.stderr
    result = gameday("inject", "connection_hog", "connections=-3")
    assert result.returncode == 2 and "params.connections: input should be greater than or equal to 1" in result.stderr
