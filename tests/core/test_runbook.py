"""Runbooks: the machine part parses, and bad input gets one line naming the field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.actions import ACTIONS
from lab.catalog import load_vocabulary
from lab.core.runbook import RunbookInvalid, parse_runbook
from lab.core.timeline import Event, Source

PROJECT = Path(__file__).resolve().parents[2]
MARCH = PROJECT / "runbooks" / "db-connection-exhaustion.md"

GOOD = """# People read this

```yaml runbook
id: demo
title: Demo
steps:
  - {id: ack, title: Acknowledge, match: {kind: ack}, target_s: 300}
  - {id: look, title: Look, after: [ack], evidence: true, match: {action: inspect-db}}
  - {id: fix, title: Fix, after: [look], any_of: [{action: terminate-idle-connections}, {action: restart, args: {service: db}}]}
```
"""


def with_steps(steps: str) -> str:
    return f"---\nid: demo\ntitle: Demo\nsteps:\n{steps}\n---\n# Demo\n"


def test_the_march_runbook_is_valid_and_keeps_its_prose():
    runbook = parse_runbook(MARCH.read_text(), ACTIONS, load_vocabulary(MARCH.parent / "hypotheses.yaml"))
    assert {"ack", "ic", "inspect-db", "hypothesis", "mitigate"} <= {s.id for s in runbook.steps}
    assert "scale-web-up" in {a.id for a in runbook.anti_patterns}
    assert runbook.followups and runbook.forbidden
    assert "## 2. Gather evidence before acting" in runbook.markdown


def test_fenced_block_and_front_matter_both_work():
    fenced = parse_runbook(GOOD, ACTIONS)
    front = parse_runbook(with_steps("  - {id: ack, title: A, match: {kind: ack}}"), ACTIONS)
    assert [s.id for s in fenced.steps] == ["ack", "look", "fix"]
    assert front.markdown.startswith("# Demo")


def event(kind: str, **data: object) -> Event:
    return Event(id=1, wall=0.0, offset_s=0.0, source=Source.TEAM, kind=kind, actor="t", data=dict(data))


@pytest.mark.parametrize("match, ev, expected", [
    ({"kind": "ack"}, event("ack"), True),
    ({"action": "inspect-db"}, event("action.inspect-db", action="inspect-db", args={}), True),
    ({"action": "scale-web", "result": {"direction": "up"}}, event("action.scale-web", args={"workers": 4},
                                                                    result={"direction": "up"}), True),
    ({"action": "scale-web", "result": {"direction": "up"}}, event("action.scale-web", result={"direction": "down"}), False),
    ({"kind": "role", "args": {"role": "IC"}}, event("role", role="IC", name="ann"), True),
    ({"kind": "role", "args": {"role": "IC"}}, event("role", args={"role": "scribe", "name": "bo"}), False),
    ({"hypothesis": "db-overloaded"}, event("note", args={"hypothesis": "db-overloaded", "text": "db"}), True),
    ({"command": "(?i)drop table"}, event("shell.command", command="psql -c 'DROP TABLE scores'"), True),
    ({"command": "(?i)drop table"}, event("shell.command", command="psql -c 'select 1'"), False),
])
def test_match_rules(match, ev, expected):
    runbook = parse_runbook(with_steps(f"  - {{id: s, title: S, match: {match}}}".replace("'", '"')), ACTIONS)
    assert runbook.steps[0].predicates()[0].matches(ev) is expected


@pytest.mark.parametrize("steps, message", [
    ("  - {id: a, title: A, match: {acton: inspect-db}}", "steps[0].match.acton: unknown field; did you mean 'action'?"),
    ("  - {id: a, title: A, after: [b], match: {kind: ack}}\n  - {id: b, title: B, after: [a], match: {kind: ack}}",
     "steps[0].after: cycle a -> b -> a"),
    ("  - {id: a, title: A, after: [a], match: {kind: ack}}", "steps[0].after: cycle a -> a"),
    ("  - {id: a, title: A, after: [ak], match: {kind: ack}}\n  - {id: ack, title: B, match: {kind: ack}}",
     "steps[0].after[0]: unknown step 'ak'; did you mean 'ack'?"),
    ("  - {id: a, title: A, match: {action: inspect-dbs}}", "steps[0].match.action: unknown action 'inspect-dbs'; did you mean 'inspect-db'?"),
    ("  - {id: a, title: A}", "steps[0]: needs a match or any_of"),
    ("  - {id: a, title: A, match: {command: '(unclosed'}}", "steps[0].match.command: not a valid regular expression"),
    ("  - {id: a, title: A, match: {kind: ack}}\n  - {id: a, title: B, match: {kind: ack}}", "steps[1].id: duplicate step id 'a'"),
    ("  - {id: a, title: A, target_s: -1, match: {kind: ack}}", "steps[0].target_s: input should be greater than 0"),
])
def test_bad_runbooks_get_one_line_naming_the_field(steps, message):
    with pytest.raises(RunbookInvalid) as info:
        parse_runbook(with_steps(steps), ACTIONS)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, message", [
    ("# only prose\n", "no machine-readable part"),
    ("---\nid: x\n", "front matter opened with '---' is never closed"),
    ("---\n[1, 2\n---\n", "not valid YAML"),
    ("---\n- a\n---\n", "expected a mapping"),
])
def test_missing_or_broken_machine_part(text, message):
    with pytest.raises(RunbookInvalid, match=message):
        parse_runbook(text, ACTIONS)


def test_validate_names_the_runbook_file_and_exits_2(tmp_path):
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "runbooks").mkdir()
    scenario = (PROJECT / "scenarios" / "march-2023-db-overload.yaml").read_text()
    (tmp_path / "scenarios" / "march.yaml").write_text(scenario)
    broken = MARCH.read_text().replace("match: {action: inspect-db}\n", "match: {acton: inspect-db}\n", 1)
    assert broken != MARCH.read_text()
    (tmp_path / "runbooks" / "db-connection-exhaustion.md").write_text(broken)
    proc = subprocess.run([sys.executable, "-m", "lab.cli", "validate", "scenarios/march.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines == ["Error: runbooks/db-connection-exhaustion.md: steps[3].match.acton: unknown field; did you mean 'action'?"]
