"""lab.timeline.rundir: the one SLI reader (torn lines and seconds before the start skipped) and
finding runs by id, by path and the latest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.core.scoring import Sample
from lab.errors import UsageError
from lab.timeline import rundir


def line(offset: float, ok: int, total: int = 4, started: bool = True, **extra: object) -> str:
    probe = {"total": total, "ok": ok, "availability": ok / total if total else None, "p95_s": 0.25,
             **extra.pop("probe", {})}  # type: ignore[dict-item]
    return json.dumps({"offset_s": offset, "started": started, "t": 1.7e9 + offset, "probe": probe, **extra})


def write_sli(run_dir: Path, lines: list[str], tail: str = "") -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / rundir.SLI).write_text("".join(f"{text}\n" for text in lines) + tail)
    return run_dir


def test_the_reader_skips_torn_lines_and_the_seconds_before_the_start(tmp_path):
    run_dir = write_sli(tmp_path, [
        line(-3.0, 4, started=False), line(-1.5, 4, started=False),  # the steady-state check
        line(0.0, 4), '{"offset_s": 1.0, "probe": {"tot', "not json at all", json.dumps({"offset_s": 1.5}),
        line(2.0, 1, probe={"failures": {"lobby:503": 3}}, firing=["SiteAvailabilityLow"],
             db={"ordinary": 37, "max_connections": 40, "by_state": {"idle": 30}}),
    ], tail='{"offset_s": 3.0, "started": true, "probe": {"total": 4, "o')  # a torn last line
    records = rundir.read_sli(run_dir)
    assert [r.offset_s for r in records] == [0.0, 2.0]
    last = records[-1]
    assert (last.total, last.ok, last.availability, last.p95_s, last.p95_ms) == (4, 1, 0.25, 0.25, 250.0)
    assert last.failures == (("lobby:503", 3),) and last.firing == ("SiteAvailabilityLow",)
    assert last.db["ordinary"] == 37 and last.db["by_state"] == {"idle": 30}
    assert rundir.read_samples(run_dir) == (Sample(0.0, 4, 4, 0.25), Sample(2.0, 4, 1, 0.25))
    everything = rundir.read_sli(run_dir, started_only=False)
    assert [r.offset_s for r in everything] == [-3.0, -1.5, 0.0, 2.0] and not everything[0].started


def test_a_line_without_the_started_flag_counts_as_started_and_no_log_is_no_samples(tmp_path):
    run_dir = write_sli(tmp_path / "a", [json.dumps({"offset_s": 5, "probe": {"total": 0, "ok": 0, "p95_s": None}})])
    (record,) = rundir.read_sli(run_dir)
    assert record.started and record.availability is None and record.p95_ms is None
    assert rundir.read_sli(tmp_path / "empty") == [] and rundir.read_samples(tmp_path / "empty") == ()


@pytest.mark.parametrize("text", [
    "", "{}", "[1, 2]", '{"offset_s": "soon", "probe": {"total": 1, "ok": 1}}',
    '{"offset_s": 1, "probe": {"total": 1, "ok": 1, "failures": {"x": "many"}}}',
    '{"offset_s": 1, "probe": null}', b'\xff\xfe',
])
def test_a_line_that_does_not_parse_is_none(text):
    assert rundir.parse_sli(text) is None


def test_the_monitor_may_write_nan_and_the_line_still_counts():
    text = json.dumps({"offset_s": 1.0, "probe": {"total": 2, "ok": 2, "p95_s": 0.1}, "signals": {"x": float("nan")}})
    record = rundir.parse_sli(text)
    assert record is not None and record.ok == 2


def make_run(root: Path, run_id: str) -> Path:
    run_dir = rundir.runs_dir(root) / run_id
    run_dir.mkdir(parents=True)
    (run_dir / rundir.EVENTS).write_text("")
    return run_dir


def test_runs_are_found_by_id_by_path_and_the_latest(tmp_path):
    older = make_run(tmp_path, "20260101-100000-march-2023-db-overload-blue")
    newer = make_run(tmp_path, "20260102-090000-march-2023-db-overload-red")
    (rundir.runs_dir(tmp_path) / "20260103-000000-not-a-run").mkdir()  # no events.jsonl
    assert rundir.list_runs(tmp_path) == [older, newer]
    assert rundir.resolve_run(None, tmp_path) == newer
    assert rundir.resolve_run(older.name, tmp_path) == older
    assert rundir.resolve_run(str(older), tmp_path) == older
    assert rundir.is_run(older) and not rundir.is_run(tmp_path)


def test_an_unknown_run_says_where_it_looked(tmp_path):
    with pytest.raises(UsageError) as err:
        rundir.resolve_run(None, tmp_path)
    assert str(err.value) == f"no runs under {tmp_path / 'runs'}; run `gameday drill ...` first"
    make_run(tmp_path, "20260101-100000-march-2023-db-overload-blue")
    with pytest.raises(UsageError) as err:
        rundir.resolve_run("20260101-100000-march-2023-db-overload-blu", tmp_path)
    assert str(err.value) == (f"no run '20260101-100000-march-2023-db-overload-blu' (neither a run directory nor a run "
                              f"id under {tmp_path / 'runs'}); did you mean '20260101-100000-march-2023-db-overload-blue'?")
