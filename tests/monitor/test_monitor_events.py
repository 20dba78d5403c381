"""The monitor's event log read back: a torn last line (the monitor killed mid-write) is skipped
with one warning, and every complete event is there."""

from __future__ import annotations

from lab.monitor.events import JsonlLog, read_events


def test_a_torn_last_line_is_skipped_with_a_warning(tmp_path, caplog):
    sink = JsonlLog(tmp_path / "alerts.jsonl")
    sink.write({"kind": "alert.firing", "alert": "SiteAvailabilityLow"})
    sink.write({"kind": "alert.resolved", "alert": "SiteAvailabilityLow"})
    with open(sink.path, "ab") as fh:
        fh.write(b'{"kind": "alert.fir\xe9')
    with caplog.at_level("WARNING", logger="lab.monitor"):
        events = read_events(sink.path)
    assert [e["kind"] for e in events] == ["alert.firing", "alert.resolved"]
    (warning,) = [r.getMessage() for r in caplog.records]
    assert "alerts.jsonl: skipped 1 line(s) that are not events: line 3" in warning
