"""The fault journal carries leases: set at inject, moved by confirmation and by a run's renewals."""

from __future__ import annotations

from lab.faults.journal import FaultJournal


def test_a_fault_without_a_lease_has_none(tmp_path):
    journal = FaultJournal(tmp_path / "faults.jsonl")
    journal.append("inject", "hog-1", "connection_hog", {"connections": 3}, run_id=None)
    assert journal.active()["hog-1"].lease_until is None
    assert "lease_until" not in journal.records()[0]


def test_a_lease_is_journaled_confirmed_and_renewed_per_run(tmp_path):
    journal = FaultJournal(tmp_path / "faults.jsonl")
    journal.append("inject", "a", "db_pause", run_id="run-1", lease_until=100.0)
    journal.append("injected", "a", "db_pause", run_id="run-1", lease_until=101.0)
    journal.append("inject", "b", "net_latency", run_id="run-2", lease_until=100.0)
    journal.append("inject", "c", "net_latency", run_id="run-1")  # no lease: renewals leave it without one
    assert journal.active()["a"].lease_until == 101.0
    journal.renew("run-1", 110.0)
    active = journal.active()
    assert active["a"].lease_until == 110.0 and active["a"].confirmed
    assert active["b"].lease_until == 100.0  # another run's renewal does not touch it
    assert active["c"].lease_until is None
    journal.renew("run-1", 105.0)  # an older renewal arriving late never shortens the lease
    assert journal.active()["a"].lease_until == 110.0


def test_a_renewal_after_the_revert_brings_nothing_back(tmp_path):
    journal = FaultJournal(tmp_path / "faults.jsonl")
    journal.append("inject", "a", "db_pause", run_id="run-1", lease_until=100.0)
    journal.append("revert", "a", "db_pause", run_id="run-1", by="watchdog", reason="runner lost")
    journal.append("reverted", "a", "db_pause", run_id="run-1", by="watchdog", reason="runner lost")
    journal.renew("run-1", 200.0)
    assert journal.active() == {}
    assert journal.used_ids() == {"a"}  # a renewal line names no fault
    assert journal.records()[1]["by"] == "watchdog" and journal.records()[1]["reason"] == "runner lost"


def test_inject_help_says_a_hand_fault_has_no_lease_by_default(gameday):
    result = gameday("inject", "--help")
    assert result.returncode == 0
    assert "--lease DURATION" in result.stdout and "[default: none" in result.stdout


def test_a_bad_lease_is_refused_before_anything_is_done(gameday):
    for value, said in (("soon", "is not a duration"), ("0", "longer than 0 s")):
        result = gameday("inject", "db_pause", "--lease", value, "--name", "nolease")
        assert result.returncode == 2, result.stderr
        assert said in result.stderr


def test_a_fault_reverted_while_it_was_being_injected_is_undone_again_afterwards(tmp_path, monkeypatch):
    """The race of an emergency stop (or the watchdog) with an injection: the stop reverts the
    journaled intent, then the injection lands; the engine sees it and undoes it at once."""
    from types import SimpleNamespace

    from lab.faults import engine
    from lab.faults.base import Fault, Params, Symptom, never_present

    undone: list[dict] = []
    stack = SimpleNamespace(run_dir=tmp_path)

    def inject(ctx, _p):  # meanwhile, someone else reverts what the journal says
        engine.journal_for(ctx.stack).append("reverted", ctx.fault_id, "slow", by="halt --all")
        return {"pid": 42}

    fake = Fault("slow", "test", Params, inject, lambda _c, _p, data: undone.append(data), never_present,
                 Symptom("none"))
    monkeypatch.setitem(engine.FAULTS, "slow", fake)
    engine.inject(stack, "slow", {}, fault_id="slow-1", lease_s=5)  # type: ignore[arg-type]
    assert undone == [{"pid": 42}]
    assert engine.journal_for(stack).active() == {}  # type: ignore[arg-type]
    assert engine.journal_for(stack).records()[-1]["reason"] == "reverted while being injected"  # type: ignore[arg-type]


def test_each_look_reads_only_what_was_appended_and_a_replaced_or_rewritten_file_is_read_anew(tmp_path):
    path = tmp_path / "faults.jsonl"
    journal = FaultJournal(path)
    journal.append("inject", "a", "db_pause", run_id="r", lease_until=100.0)
    assert list(journal.active()) == ["a"]
    size = path.stat().st_size
    with open(path, "ab") as fh:  # a line being written: not read until its newline is there
        fh.write(b'{"t": 1, "op": "reverted", "fault_id": "a", "kind": "db_pause"')
    assert list(journal.active()) == ["a"]
    with open(path, "ab") as fh:
        fh.write(b', "params": {}, "data": {}, "run_id": "r"}\n')
    assert journal.active() == {} and journal.used_ids() == {"a"}
    for _ in range(500):
        journal.renew("r", 200.0)
    journal.append("inject", "b", "net_down", run_id="r", lease_until=150.0)
    journal.append("revert", "b", "net_down", run_id="r", by="watchdog", reason="runner lost")
    assert journal.active()["b"].lease_until == 200.0 and journal.taken_by("watchdog", "r")
    assert not journal.taken_by("watchdog", "other")
    # a fresh reader (another process) folds the whole file to the same answer
    records = journal.records()
    assert len(records) == 504 and path.stat().st_size > size
    # the file rewritten in place (same inode, another beginning) or replaced: read from the start
    path.write_text(path.read_text().replace('"fault_id": "a"', '"fault_id": "c"').replace('"reverted"', '"noted"'))
    assert list(journal.active()) == ["c", "b"]
    path.unlink()
    assert journal.active() == {} and journal.used_ids() == set()
    FaultJournal(path).append("inject", "d", "db_stop", run_id="r")
    assert list(journal.active()) == ["d"]


def test_a_fault_injected_after_a_torn_line_is_still_known_to_be_active(tmp_path):
    """A crash mid-write leaves half a line; the next inject must not be glued to it (and lost),
    or recover and the watchdog would not know to revert that fault."""
    journal = FaultJournal(tmp_path / "faults.jsonl")
    journal.append("inject", "hog-1", "connection_hog", {"connections": 3}, run_id=None)
    with open(journal.path, "ab") as fh:
        fh.write(b'{"op": "reverted", "fault_id": "hog-1", "ki')  # the crash
    journal.append("inject", "pause-1", "db_pause", {}, run_id=None)
    assert set(journal.active()) == {"hog-1", "pause-1"}
