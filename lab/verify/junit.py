"""JUnit XML for CI systems: one testsuite per scenario, one testcase per check. Pure: returns text.

    <testsuites name="gameday verify" tests failures errors time>
      <testsuite name=<scenario id> tests failures errors skipped time timestamp hostname file>
        <properties>  stack, speed, kept run directory, and <check>.<figure> for every measured figure
        <testcase name=<check> classname="gameday.verify.<scenario id>" time>
          <failure message="<check>: expected ...; measured ..." type="CheckFailed"> expected / measured / figures
          | <error ... type="CheckError"> | <skipped message=...>
          <system-out> expected / measured / figures (every check)

The shape follows the common JUnit schema (the Jenkins/Ant "junit-10" one) so that Jenkins,
GitLab, GitHub test reporters and the like render it.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from lab.verify.model import Check, Figure, ScenarioReport, Status


def _secs(value: float) -> str:
    return f"{max(0.0, value):.3f}"


def _figure(value: Figure) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _timestamp(wall: float) -> str:
    """ISO 8601 in UTC without a zone suffix, as the schema's timestamp pattern wants."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(wall))


def _details(check: Check, report: ScenarioReport) -> str:
    lines = [f"expected: {check.expected}" if check.expected else "", f"measured: {check.measured}"]
    lines += [f"{key} = {_figure(value)}" for key, value in check.figures]
    if check.bad and report.kept:
        lines.append(f"run directory kept: {report.kept}")
    return "\n".join(line for line in lines if line)


def _testcase(parent: ET.Element, check: Check, report: ScenarioReport) -> None:
    case = ET.SubElement(parent, "testcase", name=check.name, classname=f"gameday.verify.{report.scenario_id}",
                         time=_secs(check.seconds))
    if check.status is Status.SKIPPED:
        ET.SubElement(case, "skipped", message=check.message())
    elif check.status is Status.FAILED:
        ET.SubElement(case, "failure", message=check.message(), type="CheckFailed").text = _details(check, report)
    elif check.status is Status.ERROR:
        ET.SubElement(case, "error", message=check.message(), type="CheckError").text = _details(check, report)
    ET.SubElement(case, "system-out").text = _details(check, report)


def _testsuite(parent: ET.Element, report: ScenarioReport, hostname: str) -> None:
    suite = ET.SubElement(parent, "testsuite", name=report.scenario_id, tests=str(len(report.checks)),
                          failures=str(len(report.failures)), errors=str(len(report.errors)),
                          skipped=str(len(report.skips)), time=_secs(report.seconds),
                          timestamp=_timestamp(report.started_wall), hostname=hostname, file=report.path)
    props = ET.SubElement(suite, "properties")
    shown: dict[str, Figure] = {"scenario.file": report.path, "stack": report.stack, "speed": report.speed,
                                **report.properties}
    if report.kept:
        shown["run_dir"] = report.kept
    for check in report.checks:
        shown[f"{check.name}.status"] = check.status.value
        for key, value in check.figures:
            shown[f"{check.name}.{key}"] = value
    for key, value in shown.items():
        ET.SubElement(props, "property", name=key, value=_figure(value))
    for check in report.checks:
        _testcase(suite, check, report)


def junit_xml(reports: Sequence[ScenarioReport], hostname: str, seconds: float) -> str:
    """The whole run as a JUnit XML document (UTF-8 text with its declaration)."""
    root = ET.Element("testsuites", name="gameday verify", tests=str(sum(len(r.checks) for r in reports)),
                      failures=str(sum(len(r.failures) for r in reports)),
                      errors=str(sum(len(r.errors) for r in reports)), time=_secs(seconds))
    for report in reports:
        _testsuite(root, report, hostname)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=False).join(
        ['<?xml version="1.0" encoding="UTF-8"?>\n', "\n"])
