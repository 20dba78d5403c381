"""A fault kind is one file with its facts plus one registry line: each entry carries everything
the lab needs (validated example parameters, a symptom, what observers see it as), and a kind
registered that way is taken up by validation, the observers and the fault listing alike."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from lab.actions import ACTIONS
from lab.core.timeline import Event, Source
from lab.errors import UsageError
from lab.faults import FAULTS, engine
from lab.faults.base import Fault, FaultContext, Params, Symptom, never_present
from lab.faults.cli import faults, inject
from lab.timeline.observers import OBSERVED_KINDS, causes_from, explained_by


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_every_fault_kind_carries_its_facts(kind):
    fault = FAULTS[kind]
    assert fault.name == kind and fault.summary
    assert engine.check(kind, fault.example) == fault.example_params()  # the example validates
    assert fault.symptom.description
    assert set(fault.observed_as) <= set(OBSERVED_KINDS), fault.observed_as
    assert len(set(fault.observed_as)) == len(fault.observed_as)


class WalParams(Params):
    megabytes: int = 64


def _inject(_ctx: FaultContext, _p: Any) -> dict[str, Any]:
    return {}


def _revert(_ctx: FaultContext, _p: Any, _data: dict[str, Any]) -> None:
    pass


NEW = Fault(name="wal_fill", summary="fill the WAL disk", params=WalParams, inject=_inject, revert=_revert,
            cause_present=never_present, symptom=Symptom("writes fail", availability_below=0.5),
            observed_as=("db.restarted",), example={"megabytes": 512})


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(FAULTS, NEW.name, NEW)
    return NEW


def test_a_kind_registered_with_its_facts_is_all_the_lab_needs(registered, tmp_path):
    # validated like every kind: its example passes, a bad value is named
    assert engine.check("wal_fill", {"megabytes": 512}) == WalParams(megabytes=512)
    with pytest.raises(UsageError, match="wal_fill: .*megabytes"):
        engine.check("wal_fill", {"megabytes": "lots"})
    # the observers take what it declares for the lab's own doing, and nothing else
    causes = causes_from(ACTIONS.values(), FAULTS.values())
    injected = Event(1, 99.0, 0.0, Source.RUNNER, "fault.injected", "lab", {"fault_id": "w1", "kind": "wal_fill"})
    assert explained_by("db.restarted", 100.0, [injected], causes=causes) == "event 1"
    assert explained_by("web.scaled", 100.0, [injected], causes=causes) is None
    # and the fault listing shows it with its example
    listing = CliRunner().invoke(faults, ["--root", str(tmp_path), "--name", "nothing-up"], env={"COLUMNS": "200"})
    assert listing.exit_code == 0, listing.output
    row = next(line for line in listing.output.splitlines() if "wal_fill" in line)
    assert "megabytes=512" in row


def test_inject_help_shows_an_example_for_every_kind():
    text = CliRunner().invoke(inject, ["--help"], env={"COLUMNS": "200"}).output
    for kind, fault in FAULTS.items():
        line = f"gameday inject {kind} " + " ".join(f"{k}={v}" for k, v in fault.example.items())
        assert line.rstrip() in text
