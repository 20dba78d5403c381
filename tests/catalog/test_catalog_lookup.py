"""lab.catalog: finding scenarios by id and path, the runbooks/ and originals/ lookup rules, errors
that name the file and say what is valid, and a catalog rooted somewhere else."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lab.catalog import CATALOG, DEFAULT_ORIGINAL, PROJECT, Catalog
from lab.errors import UsageError

FIXTURES = Path(__file__).resolve().parents[1] / "verify" / "fixtures" / "scenarios"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A project tree of its own: one scenario, its runbook and its original path, each marked as this tree's."""
    (tmp_path / "scenarios" / "originals").mkdir(parents=True)
    (tmp_path / "runbooks").mkdir()
    scenario = CATALOG.resolve("pydis-2020-connection-surge").read_text()
    (tmp_path / "scenarios" / "surge.yaml").write_text(scenario.replace("id: pydis-2020-connection-surge", "id: surge"))
    runbook = CATALOG.runbook_path("db-too-many-clients").read_text()
    marked = runbook.replace('title: "PostgreSQL', 'title: "Second root: PostgreSQL', 1)
    (tmp_path / "runbooks" / "db-too-many-clients.md").write_text(marked)
    original = (CATALOG.originals_dir / "pydis-2020-connection-surge.yaml").read_text()
    (tmp_path / "scenarios" / "originals" / "pydis-2020-connection-surge.yaml").write_text(
        original.replace('name: "Python Discord 2020"', 'name: "Second root"'))
    return tmp_path


def test_the_project_catalog_finds_every_scenario_and_no_original():
    assert CATALOG.root == PROJECT and (PROJECT / "lab" / "catalog.py").is_file()
    ids = [p.stem for p in CATALOG.scenario_files()]
    assert "march-2023-db-overload" in ids and ids == sorted(ids)
    assert not any(p.parent.name == "originals" for p in CATALOG.scenario_files())
    assert "db-connection-exhaustion" in CATALOG.runbook_names()


def test_a_scenario_resolves_by_id_and_by_path(monkeypatch):
    by_id = CATALOG.resolve("march-2023-db-overload")
    assert by_id == CATALOG.scenario_dir / "march-2023-db-overload.yaml"
    monkeypatch.chdir(PROJECT)
    assert CATALOG.resolve("scenarios/march-2023-db-overload.yaml") == Path("scenarios/march-2023-db-overload.yaml")
    assert CATALOG.resolve(str(FIXTURES / "quick-heal.yaml")) == FIXTURES / "quick-heal.yaml"


@pytest.mark.parametrize(("ref", "message"), [
    ("march-2023-db-overlod", "unknown scenario 'march-2023-db-overlod'; did you mean 'march-2023-db-overload'?"),
    ("zzz", "unknown scenario 'zzz'; valid: flagsmith-2023-migration-lock, "),
    ("nowhere/x.yaml", "nowhere/x.yaml: no such scenario file"),
])
def test_an_unknown_scenario_says_what_is_valid(ref, message):
    with pytest.raises(UsageError) as err:
        CATALOG.resolve(ref)
    assert str(err.value).startswith(message), str(err.value)


def test_a_directory_is_not_a_scenario_file(tmp_path):
    with pytest.raises(UsageError, match="no such scenario file"):
        CATALOG.resolve(str(tmp_path))


def test_load_errors_name_the_file_and_the_field(tree):
    bad = tree / "scenarios" / "surge.yaml"
    bad.write_text(bad.read_text().replace("runbook: db-too-many-clients", "runbook: db-too-many-client"))
    with pytest.raises(UsageError) as err:
        CATALOG.load(bad)
    assert str(err.value) == f"{bad}: runbook: unknown runbook 'db-too-many-client'; did you mean 'db-too-many-clients'?"
    missing = tree / "scenarios" / "gone.yaml"
    with pytest.raises(UsageError) as err:
        CATALOG.load(missing)
    assert str(err.value) == f"{missing}: cannot read: No such file or directory"


def test_a_broken_runbook_or_original_is_named_by_its_file(tree, monkeypatch):
    monkeypatch.chdir(tree)
    runbook = tree / "runbooks" / "db-too-many-clients.md"
    text = runbook.read_text()
    runbook.write_text(text.replace("match: {action:", "match: {acton:", 1))
    with pytest.raises(UsageError) as err:
        CATALOG.load(Path("scenarios/surge.yaml"))
    assert str(err.value).startswith("runbooks/db-too-many-clients.md: steps[")
    assert "acton: unknown field; did you mean 'action'?" in str(err.value)
    runbook.write_text(text)
    original = tree / "scenarios" / "originals" / "pydis-2020-connection-surge.yaml"
    original.write_text(original.read_text().replace("restored_min: 40", "restored_min: -40"))
    with pytest.raises(UsageError) as err:
        CATALOG.load(Path("scenarios/surge.yaml"))
    assert str(err.value) == ("scenarios/originals/pydis-2020-connection-surge.yaml: restored_min: "
                              "input should be greater than 0, got -40")


def test_runbooks_and_originals_beside_a_scenario_file_come_first(tree):
    path = tree / "scenarios" / "surge.yaml"
    scenario, text = CATALOG.load(path)
    assert scenario.id == "surge" and text == path.read_text()
    assert CATALOG.runbook_path(scenario.runbook, near=path) == (tree / "runbooks" / "db-too-many-clients.md").resolve()
    assert CATALOG.runbook(scenario.runbook, near=path).title.startswith("Second root:")
    assert CATALOG.original(scenario, near=path).name == "Second root"
    # without `near` (a scenario copied into a run directory), the project's own files
    assert not CATALOG.runbook(scenario.runbook).title.startswith("Second root:")
    assert CATALOG.original(scenario).name == "Python Discord 2020"


def test_what_is_not_beside_a_scenario_comes_from_the_catalog():
    """The verify fixtures have a scenarios/ directory only: runbooks and the default original are the project's."""
    scenario, _ = CATALOG.load(FIXTURES / "harmless-fault.yaml")
    assert scenario.based_on is None
    assert CATALOG.runbook_path(scenario.runbook, near=FIXTURES / "harmless-fault.yaml") == \
        CATALOG.runbook_dir / f"{scenario.runbook}.md"
    assert CATALOG.original(scenario, near=FIXTURES / "harmless-fault.yaml").name == "March 2023"


def test_a_missing_original_says_which_are_valid(tree):
    path = tree / "scenarios" / "surge.yaml"
    path.write_text(path.read_text().replace("original: pydis-2020-connection-surge", "original: pydis-2020-surge"))
    with pytest.raises(UsageError) as err:
        CATALOG.load(path)
    message = str(err.value)
    assert message.startswith("based_on.original: no original path 'pydis-2020-surge' in ")
    assert str(tree / "scenarios" / "originals") in message
    assert message.endswith("; did you mean 'pydis-2020-connection-surge'?")


def test_a_second_root_is_a_catalog_of_its_own(tree):
    other = Catalog(tree)
    assert [p.name for p in other.scenario_files()] == ["surge.yaml"]
    assert other.runbook_names() == ["db-too-many-clients"]
    path = other.resolve("surge")
    assert path == tree / "scenarios" / "surge.yaml"
    scenario, _ = other.load(path)
    assert other.runbook(scenario.runbook).title.startswith("Second root:")  # its own runbooks/, no `near` needed
    assert other.original(scenario).name == "Second root"
    with pytest.raises(UsageError, match=r"unknown scenario 'march-2023-db-overload'; valid: surge"):
        other.resolve("march-2023-db-overload")


def test_a_second_root_without_the_default_original_says_so(tree):
    plain = tree / "scenarios" / "plain.yaml"
    shutil.copy(FIXTURES / "quick-heal.yaml", plain)  # names no original path
    shutil.copy(CATALOG.runbook_path("db-connection-exhaustion"), tree / "runbooks")
    with pytest.raises(UsageError) as err:
        Catalog(tree).load(plain)
    assert str(err.value) == (f"based_on.original: no original path '{DEFAULT_ORIGINAL}' in {tree / 'scenarios' / 'originals'}"
                              " (the default for a scenario that names none); valid: pydis-2020-connection-surge")
    assert CATALOG.load(plain)[0].id == "verify-quick-heal"  # the project's catalog has it


def test_the_march_original_is_data_like_the_others():
    march = CATALOG.original(CATALOG.load(CATALOG.resolve("march-2023-db-overload"))[0])
    assert (march.name, march.label, march.restored_min, march.failed_share) == ("March 2023", "original 2023", 150, 1.0)
    assert march.start.isoformat() == "2023-03-05T17:00:00+00:00" and len(march.steps) == 13
    assert os.path.basename(CATALOG.original_path(DEFAULT_ORIGINAL)) == "march-2023-db-overload.yaml"
