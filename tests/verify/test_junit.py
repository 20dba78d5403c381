"""The JUnit XML document: one testsuite per scenario, one testcase per check, valid against the
common JUnit schema (tests/verify/junit-10.xsd)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from lab.verify.junit import junit_xml
from lab.verify.model import Check, ScenarioReport, Status, exit_code, skipped

SCHEMA = Path(__file__).parent / "junit-10.xsd"


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(SCHEMA)


def reports() -> list[ScenarioReport]:
    good = ScenarioReport("march-2023-db-overload", "scenarios/march.yaml", "local", 10.0, started_wall=1_700_000_000,
                          seconds=98.2, properties={"autopilot.run_id": "r1"})
    good.checks = [Check("validate", Status.PASSED, 0.01, "valid", "2 fault steps"),
                   Check("recovery", Status.PASSED, 12.0, "recovered within 9000 drill s", "recovered at t+168 s",
                         (("recovered_at_s", 168.3), ("outcome", "recovered"), ("availability_at_end", None)))]
    bad = ScenarioReport("broken <&\"'>", "tests/x & y.yaml", "local", 10.0, started_wall=1_700_000_100, seconds=15.0,
                         kept="/tmp/gd/verify/01-broken/runs/r2")
    bad.checks = [Check("symptom[tiny-latency]", Status.FAILED, 4.4, "p95 > 150 ms for 3 s in a row",
                        "highest sustained p95 8 ms", (("p95_ms_highest", 8.0), ("p95_ms_above", 150.0))),
                  Check("recovery", Status.ERROR, 1.0, "recovered", "the drill ended as 'halted' <at> t+3 s"),
                  skipped("wrong_turns", "depends on symptom[tiny-latency]")]
    return [good, bad]


def test_the_document_validates_against_the_junit_schema(schema):
    schema.validate(junit_xml(reports(), "ci-runner-1", 113.2))


def test_the_schema_is_not_a_rubber_stamp(schema):
    text = junit_xml(reports(), "h", 1.0)
    assert not schema.is_valid(text.replace('name="march-2023-db-overload"', "", 1))  # a testsuite needs a name
    assert not schema.is_valid(text.replace('tests="2"', 'tests="two"', 1))
    assert not schema.is_valid(text.replace("<properties>", "<properties><bogus/>", 1))


def test_suites_cases_counts_and_what_a_failure_says():
    root = ET.fromstring(junit_xml(reports(), "ci-runner-1", 113.2))
    assert root.tag == "testsuites" and root.get("tests") == "5" and root.get("failures") == "1"
    assert root.get("errors") == "1" and root.get("time") == "113.200"
    good, bad = root.findall("testsuite")
    assert good.get("name") == "march-2023-db-overload" and good.get("failures") == "0"
    assert good.get("timestamp") == "2023-11-14T22:13:20" and good.get("hostname") == "ci-runner-1"
    assert [c.get("name") for c in good.findall("testcase")] == ["validate", "recovery"]
    assert good.find("testcase").get("classname") == "gameday.verify.march-2023-db-overload"
    assert bad.get("name") == "broken <&\"'>" and bad.get("file") == "tests/x & y.yaml"
    assert (bad.get("tests"), bad.get("failures"), bad.get("errors"), bad.get("skipped")) == ("3", "1", "1", "1")
    symptom, recovery, wrong = bad.findall("testcase")
    failure = symptom.find("failure")
    assert failure.get("message") == ("symptom[tiny-latency]: expected p95 > 150 ms for 3 s in a row; "
                                      "measured highest sustained p95 8 ms")
    assert failure.get("type") == "CheckFailed"
    assert "p95_ms_highest = 8" in failure.text and "run directory kept: /tmp/gd/verify/01-broken/runs/r2" in failure.text
    assert recovery.find("error").get("type") == "CheckError" and "<at>" in recovery.find("error").get("message")
    assert wrong.find("skipped").get("message") == "wrong_turns: skipped: depends on symptom[tiny-latency]"
    assert symptom.get("time") == "4.400"


def test_measured_figures_are_properties():
    root = ET.fromstring(junit_xml(reports(), "h", 1.0))
    good, bad = root.findall("testsuite")
    props = {p.get("name"): p.get("value") for p in good.find("properties")}
    assert props["recovery.recovered_at_s"] == "168.3" and props["recovery.outcome"] == "recovered"
    assert props["recovery.availability_at_end"] == "none" and props["recovery.status"] == "passed"
    assert props["speed"] == "10" and props["stack"] == "local" and props["autopilot.run_id"] == "r1"
    props = {p.get("name"): p.get("value") for p in bad.find("properties")}
    assert props["symptom[tiny-latency].p95_ms_above"] == "150" and props["run_dir"].endswith("runs/r2")


def test_reports_survive_the_trip_through_json_from_a_worker_process():
    for report in reports():
        again = ScenarioReport.from_dict(report.to_dict())
        assert again == report


def test_exit_code():
    good, bad = reports()
    assert exit_code([good]) == 0 and exit_code([good, bad]) == 1 and exit_code([]) == 1
