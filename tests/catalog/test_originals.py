"""Original paths as data: every file in scenarios/originals/ parses, is the path its scenario
names, scores by the same engine, and bad files get one-line errors that name the field."""

from __future__ import annotations

import pytest

from lab.catalog import CATALOG, DEFAULT_ORIGINAL
from lab.core.original import OriginalInvalid, parse_original, path_timeline
from lab.core.scoring import score
from lab.errors import UsageError

GOOD = """
incident: "Test incident, 1 January 2024"
name: "Test 2024"
start: "2024-01-01T10:00:00+00:00"
restored_min: 30
failed_share: 0.25
steps:
  - {at_min: 0, kind: alert.firing, args: {alert: SiteAvailabilityLow}, said: "paged"}
  - {at_min: 2, kind: ack, said: "on it"}
  - {at_min: 9, action: inspect-db, said: "looked at the database"}
"""


def test_a_path_becomes_a_timeline_with_its_probe():
    path = parse_original(GOOD)
    tl = path_timeline(path)
    kinds = [(e.offset_s, e.source.value, e.kind) for e in tl.events]
    assert kinds == [(0.0, "monitor", "alert.firing"), (120.0, "team", "ack"), (540.0, "team", "action.inspect-db")]
    assert tl.events[0].wall == path.start.timestamp()
    assert all(e.data["postmortem"] for e in tl.events)
    during = [s for s in tl.samples if 0 <= s.offset_s < 30 * 60]
    after = [s for s in tl.samples if s.offset_s >= 30 * 60]
    assert during and all(s.ok == 75 and s.total == 100 for s in during)  # a quarter failing
    assert after and all(s.ok == s.total for s in after)


def test_march_is_unchanged_and_still_the_default():
    march_2023 = parse_original((CATALOG.originals_dir / "march-2023-db-overload.yaml").read_text())
    assert march_2023.restored_min == 150 and len(march_2023.steps) == 13
    march, _ = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))
    assert CATALOG.original(march) == march_2023
    assert DEFAULT_ORIGINAL == "march-2023-db-overload"
    corrective, _ = CATALOG.load(CATALOG.resolve("march-2023-corrective-measures"))  # names none
    assert corrective.based_on is not None and corrective.based_on.original is None
    assert CATALOG.original(corrective) == march_2023


@pytest.mark.parametrize(("text", "message"), [
    ("incident: x\nname: y\nstart: '2024-01-01T10:00:00+00:00'\nrestored_min: 5\nsteps: []", "steps: needs at least 1 entry"),
    (GOOD.replace("at_min: 9, action", "at_min: 9, kind: ack, action"), "steps[2]: give either action or kind"),
    (GOOD.replace("at_min: 2,", "at_mins: 2,"), "steps[1].at_min: required field is missing"),
    (GOOD.replace("+00:00", ""), "start: give a time zone"),
    (GOOD.replace("restored_min: 30", "restored_min: -1"), "restored_min: input should be greater than 0"),
    ("- a list", "expected a mapping"),
])
def test_bad_files_name_the_field(text, message):
    with pytest.raises(OriginalInvalid) as err:
        parse_original(text)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_a_scenario_naming_a_missing_original_is_refused_at_load(tmp_path):
    source = CATALOG.resolve("pydis-2020-connection-surge").read_text()
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "runbooks").mkdir()
    (tmp_path / "scenarios" / "originals").mkdir()
    for name in ("db-too-many-clients",):
        (tmp_path / "runbooks" / f"{name}.md").write_text(CATALOG.runbook_path(name).read_text())
    bad = tmp_path / "scenarios" / "x.yaml"
    bad.write_text(source.replace("original: pydis-2020-connection-surge", "original: pydis-2020-conection-surge"))
    with pytest.raises(UsageError) as err:
        CATALOG.load(bad)
    assert "based_on.original: no original path 'pydis-2020-conection-surge'" in str(err.value)


def test_every_original_file_belongs_to_a_scenario_and_scores():
    named = {}
    for path in CATALOG.scenario_files():
        scenario, _ = CATALOG.load(path)
        if scenario.based_on and scenario.based_on.original:
            named[scenario.based_on.original] = scenario
    files = {p.stem for p in CATALOG.originals_dir.glob("*.yaml")}
    assert files == set(named), "every original path is named by a scenario, and every name has a file"
    for name, scenario in named.items():
        original = CATALOG.original(scenario)
        card = score(path_timeline(original), CATALOG.runbook(scenario.runbook), scenario)
        assert card.phases.origin_s == 0.0 and card.phases.impact_end_s is not None, name
        assert card.total < scenario.par_score, f"{name}: the original path should not reach par"
