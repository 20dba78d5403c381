"""The charts' event labels never overlap: each marked event is a number in a lane, measured with
matplotlib's own renderer; the HTML report maps every number to its time, event and actor."""

from __future__ import annotations

from itertools import combinations

import html5lib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from lab.core.original import path_timeline
from lab.core.timeline import Source
from lab.report import charts
from lab.report.cli import scored
from lab.report.run import load_run
from report_helpers import PATH, write_run


def crowded(first: float, count: int, every: float) -> list:
    """`count` team moves from `first`, `every` seconds apart, by three people (notes and actions mixed)."""
    out = []
    for i in range(count):
        kind = "note" if i % 3 else "action.inspect-db"
        data = ({"action": "note", "args": {"text": f"look {i}"}} if kind == "note" else
                {"action": "inspect-db", "args": {}, "result": {"connections_used": 38}, "ok": True})
        out.append((first + i * every, Source.TEAM, kind, data))
    return sorted(PATH + out, key=lambda row: row[0])


def label_boxes(fig: Figure, dpi: float) -> tuple[list[Text], list[Bbox], list[Bbox]]:
    """The numbers' boxes (their drawn round boxes) and every other text's and legend's box, at `dpi`."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    labels = [t for t in fig.findobj(Text) if t.get_gid() == charts.LABEL_GID]
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in labels]  # type: ignore[union-attr]
    others = [t.get_window_extent(renderer) for t in fig.findobj(Text)
              if t.get_gid() != charts.LABEL_GID and t.get_visible() and t.get_text().strip()]
    others += [lg.get_window_extent(renderer) for lg in fig.findobj(Legend)]
    return labels, boxes, others


def assert_apart(boxes: list[Bbox], others: list[Bbox]) -> None:
    for (i, a), (j, b) in combinations(enumerate(boxes), 2):
        assert not a.overlaps(b), f"labels {i} and {j} overlap: {a} / {b}"
    for i, a in enumerate(boxes):
        for b in others:
            assert not a.overlaps(b), f"label {i} overlaps another text or the legend: {a} / {b}"


@pytest.mark.parametrize("count, every", [(30, 2.0), (30, 0.0), (57, 0.5)], ids=["30-in-60s", "30-in-one-second", "57-in-28s"])
def test_no_two_labels_overlap_on_a_crowded_availability_chart(tmp_path, count, every):
    run = load_run(write_run(tmp_path / "run", crowded(100, count, every)))
    card, _ = scored(run)
    fig = charts.slo_figure(run.timeline, card, 0.99)
    marks = charts.marks(run.timeline)
    assert len(marks) == min(charts.MARKS, 4 + 8 + count)  # 2 faults, 2 alerts, the path's 8 team moves, the crowd
    for dpi in (100, 72, 150):  # the page's SVG is drawn at 72 dpi: the layout holds at any scale
        labels, boxes, others = label_boxes(fig, dpi)
        assert sorted(t.get_text() for t in labels) == sorted(m.number for m in marks)
        assert_apart(boxes, others)
    # every number sits at or right of its event's moment, never left of it
    strip = fig.axes[0]
    for text, mark in zip(sorted(labels, key=lambda t: int(t.get_text())), marks):
        assert text.get_position()[0] >= mark.event.offset_s - 1e-6 * max(1.0, abs(mark.event.offset_s))
        assert text.axes is strip


def test_no_two_labels_overlap_on_the_path_chart(tmp_path):
    run = load_run(write_run(tmp_path / "run", crowded(100, 30, 2.0)))
    card, original = scored(run)
    fig = charts.path_figure(card, run.timeline, original, path_timeline(run.original), run.original.label)
    for dpi in (100, 72):
        labels, boxes, others = label_boxes(fig, dpi)
        team_marks = [m for m in charts.marks(run.timeline) if m.event.source == Source.TEAM]
        lettered = charts.original_marks(path_timeline(run.original))
        assert len(labels) == len(team_marks) + len(lettered) == 38 + len(lettered)
        assert_apart(boxes, others)


def test_the_report_maps_every_number_to_time_event_and_actor(cli, tmp_path, run_root):
    run_dir = write_run(run_root / "runs" / "20260101-120000-march-2023-db-overload-blue", crowded(100, 30, 2.0))
    assert cli("report", run_dir.name).returncode == 0
    page = (run_dir / "report.html").read_text()
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    legend = tree.find(".//table[@class='legend']")
    assert legend is not None
    rows = [[("".join(td.itertext())).strip() for td in tr.findall("td")] for tr in legend.findall(".//tr")][1:]
    assert [r[0] for r in rows] == [str(i) for i in range(1, 43)]
    assert rows[0][1:] == ["T+00:20", "Fault injected by the lab: traffic_surge (surge); the team is not told", "lab"]
    by_number = {r[0]: r for r in rows}
    assert by_number["4"][1:] == ["T+01:30", "blue acknowledged the alert", "blue"]
    assert any(r[2] == "Note: look 1" and r[3] == "blue" for r in rows)
    assert page.count("<svg") == 2
