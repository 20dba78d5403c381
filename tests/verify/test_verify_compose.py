"""`gameday verify --stack compose` on a real Docker engine: a scenario in good order passes, a
broken one fails on the right check, and no container or volume of the run is left behind.

Skipped only when no Docker engine answers (`docker info` fails), like tests/compose."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from lab.stack import image_build, images
from lab.stack.engine import engine, engine_answers

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "scenarios"
DOCKER = engine_answers()

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot(weight=2),  # surge drills on containers
              pytest.mark.skipif(not DOCKER, reason="no Docker engine answers (`docker info` fails)")]


@pytest.fixture(scope="module")
def docker_client():  # type: ignore[no-untyped-def]
    """The engine, with the images the Compose stack uses (built here, offline, when missing)."""
    client = engine()
    chosen = images.chosen()
    if not all(images.present(client, chosen[var]) for var in ("LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE", "LAB_IMAGE")):
        image_build.build_offline(client)
    yield client
    client.close()


def verify_projects(client) -> set[str]:  # type: ignore[no-untyped-def]
    """Compose projects of verify's stacks that have containers or volumes on this engine."""
    label = "com.docker.compose.project"
    found = {c.labels.get(label, "") for c in client.containers.list(all=True, filters={"label": label})}
    found |= {v.attrs.get("Labels", {}).get(label, "") for v in client.volumes.list(filters={"label": label})}
    return {name for name in found if name.startswith("gameday-v")}


@pytest.mark.timeout(600)
def test_verify_on_compose_passes_a_good_scenario_and_names_the_broken_check(gameday, run_root, tmp_path,
                                                                             docker_client):
    before = verify_projects(docker_client)
    report = tmp_path / "verify.xml"
    result = gameday("verify", str(FIXTURES / "quick-heal.yaml"), str(FIXTURES / "useless-autopilot.yaml"),
                     "--stack", "compose", "--jobs", "2", "--junit", str(report), timeout=540)
    assert result.returncode == 1, result.stdout + result.stderr
    xmlschema.XMLSchema(HERE / "junit-10.xsd").validate(str(report))
    found = {s.get("name"): s for s in ET.parse(report).getroot().findall("testsuite")}
    good, broken = found["verify-quick-heal"], found["verify-useless-autopilot"]
    assert good.get("failures") == "0" and good.get("errors") == "0" and good.get("skipped") == "0", \
        ET.tostring(good, "unicode")[:4000]
    props = {p.get("name"): p.get("value") for p in good.find("properties")}
    assert props["stack"] == "compose" and props["recovery.outcome"] == "recovered"
    assert float(props["wrong_turns.score"]) < float(props["autopilot_score.score"])
    failed = [c.get("name") for c in broken.findall("testcase") if c.find("failure") is not None]
    assert "recovery" in failed and not any(name.startswith("symptom") for name in failed)
    assert "verify-useless-autopilot: recovery: expected recovered within 70 drill s" in " ".join(result.stdout.split())
    assert verify_projects(docker_client) <= before, "a container or volume of the run was left behind"
