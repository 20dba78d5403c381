"""One act, every channel: raising max_connections to 8000 through the toolbox's CLI, the console,
the recorded shell (typed through a real pty) or by hand outside the lab (seen by the observers)
is one event on the drill's timeline, the same canonical act, and the same score.

    channel   how                                                  the one event it leaves
    cli       gameday act set-db-setting max_connections 8000      team action.set-db-setting
    console   POST /team/act (the real app, the team's session)    team action.set-db-setting
    shell     psql -c "ALTER SYSTEM SET max_connections = 8000"    team action.set-db-setting, via shell
    by-hand   psycopg2 as the superuser, outside the lab           observer db.setting_changed
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from console.app_helpers import logged_in, make_app
from lab.catalog import CATALOG
from lab.core.acts import Act, act_of
from lab.core.runbook import Match, Runbook
from lab.core.scoring import Sample, ScoreCard, Timeline, score
from lab.core.timeline import Event, Source
from lab.stack import procs
from lab.stack.local import LocalStack
from lab.timeline.observers import EXPLAIN_WINDOW_S
from lab.timeline.store import TimelineStore
from recorded_shell import type_lines

pytestmark = pytest.mark.integration

ACT = Act("set-db-setting", {"name": "max_connections", "value": "8000"})
SQL = "ALTER SYSTEM SET max_connections = 8000"
SETTLE_S = 1.5  # three observer ticks: time for a second record of the same act to show up


def by_cli(stack: LocalStack, env: dict[str, str], home: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lab.cli", "act", "set-db-setting", "max_connections", "8000",
                           "--name", stack.name, "--actor", "alice"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def by_console(stack: LocalStack, env: dict[str, str], home: Path) -> None:
    app = make_app(Path(env["GAMEDAY_ROOT"]), stack.name)
    team = logged_in(app, "team", "bob")
    answer = team.post("/team/act", data={"csrf_token": team.csrf, "action": "set-db-setting",
                                          "arg_name": "max_connections", "arg_value": "8000"})
    assert answer.status_code == 303, answer.text


def by_shell(stack: LocalStack, env: dict[str, str], home: Path) -> None:
    shown = type_lines(env, stack.name, "carol", home, f'psql -c "{SQL}"')
    assert "ALTER SYSTEM" in shown, shown


def by_hand(stack: LocalStack, env: dict[str, str], home: Path) -> None:
    conn = psycopg2.connect(stack.admin_target().dsn(5, "a-second-terminal"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(SQL)
    finally:
        conn.close()


# channel -> (how, the event's source and kind, whether it came through the recorded shell, the act's channel)
CHANNELS: dict[str, tuple[Callable[[LocalStack, dict[str, str], Path], None], Source, str, bool, str]] = {
    "cli": (by_cli, Source.TEAM, "action.set-db-setting", False, "toolbox"),
    "console": (by_console, Source.TEAM, "action.set-db-setting", False, "toolbox"),
    "shell": (by_shell, Source.TEAM, "action.set-db-setting", True, "shell"),
    "by-hand": (by_hand, Source.OBSERVER, "db.setting_changed", False, "observer"),
}


def is_the_act(event: Event) -> bool:
    act = act_of(event)
    return (act is not None and act.action == ACT.action and act.args.get("name") == "max_connections"
            and act.args.get("value") is not None)


def undo(stack: LocalStack, run_dir: Path, max_connections: int) -> None:
    """Put max_connections back outside the drill: the stack's config (where the toolbox records it)
    and postgresql.auto.conf (where ALTER SYSTEM wrote it; the observers see that reset)."""
    stack.reconfigure([f"db.max_connections={max_connections}"], restart=())
    store = TimelineStore(run_dir / "events.jsonl")
    since = len(store.read())
    (written,), = stack.sql("SELECT count(*) FROM pg_file_settings WHERE name = 'max_connections' "
                            "AND sourcefile LIKE '%postgresql.auto.conf'", dbname="postgres")
    stack.sql("ALTER SYSTEM RESET max_connections")
    if written:
        assert procs.wait_until(lambda: any(e.kind == "db.setting_changed" and e.data.get("value") is None
                                            for e in store.read()[since:]), 5, 0.1), str(
            [(e.id, e.source.value, e.kind, e.data) for e in store.read()[since:]])


@pytest.fixture(scope="module")
def through(drill, tmp_path_factory) -> dict[str, list[Event]]:  # type: ignore[no-untyped-def]
    """Each channel's events that amount to setting max_connections, done one channel at a time."""
    stack, run_dir, env = drill
    store = TimelineStore(run_dir / "events.jsonl")
    before = stack.settings().db.max_connections
    time.sleep(SETTLE_S)  # what earlier tests changed by hand is observed first
    out: dict[str, list[Event]] = {}
    for name, (how, source, kind, *_rest) in CHANNELS.items():
        since = len(store.read())
        how(stack, env, tmp_path_factory.mktemp(f"home-{name}"))
        procs.wait_until(lambda: any(e.kind == kind and e.source is source for e in store.read()[since:]), 5, 0.1)
        time.sleep(SETTLE_S)
        out[name] = [e for e in store.read()[since:] if is_the_act(e)]
        undo(stack, run_dir, before)
        time.sleep(EXPLAIN_WINDOW_S)  # the next channel's change is not taken for this one's
    return out


@pytest.mark.parametrize("channel", CHANNELS)
def test_each_channel_leaves_one_event_that_is_the_canonical_act(through, channel):
    _how, source, kind, typed, act_channel = CHANNELS[channel]
    events = through[channel]
    assert len(events) == 1, [(e.id, e.source.value, e.kind, e.data) for e in events]
    event, = events
    assert (event.source, event.kind, event.data.get("via") == "shell") == (source, kind, typed)
    act = act_of(event)
    assert act is not None and act.channel == act_channel
    assert (act.action, act.args["name"], str(act.args["value"])) == (ACT.action, "max_connections", "8000")


# --- the same score through every channel ----------------------------------------------------------

SCENARIO, _ = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))
RUNBOOK = CATALOG.runbook(SCENARIO.runbook)
ACT_RULE = Match(action="set-db-setting", args={"name": "max_connections", "value": {"gte": 1000}})

BASE = (Event(1, 1e9, 0.0, Source.RUNNER, "drill.started", "lab", {"scenario": SCENARIO.id, "speed": 1.0}),
        Event(2, 1e9 + 20, 20.0, Source.RUNNER, "fault.injected", "lab", {"step": "surge"}),
        Event(3, 1e9 + 60, 60.0, Source.MONITOR, "alert.firing", "monitor", {"alert": "SiteAvailabilityLow"}),
        Event(4, 1e9 + 70, 70.0, Source.TEAM, "ack", "ann", {"action": "ack", "args": {}, "ok": True}))
SAMPLES = tuple(Sample(t, 10, 0 if 50 <= t < 300 else 10) for t in range(0, 600, 5))
AT = 100.0  # every channel's event is put at the same drill time, with the same id


def card(event: Event, runbook: Runbook) -> ScoreCard:
    moved = event._replace(id=10, wall=1e9 + AT, offset_s=AT)
    return score(Timeline((*BASE, moved), SAMPLES), runbook, SCENARIO)


def effect(c: ScoreCard) -> dict[str, Any]:
    """What the act did to the score: the total, the caps, red herrings, every component's points."""
    return {"total": c.total, "caps": [(p.points, p.evidence, p.reason) for p in c.caps],
            "herrings": list(c.herrings), "components": {k.key: (k.points, k.rating) for k in c.components}}


def test_the_march_runbook_forbids_the_act_not_a_way_of_typing_it():
    assert next(f.match for f in RUNBOOK.forbidden if f.id == "huge-max-connections") == ACT_RULE


def test_the_same_act_costs_the_same_through_every_channel(through):
    effects = {channel: effect(card(events[0], RUNBOOK)) for channel, events in through.items() if len(events) == 1}
    assert set(effects) == set(CHANNELS), "a channel left no single event (see the test above)"
    first = effects["cli"]
    (_points, evidence, reason), = first["caps"]  # the forbidden act caps the score
    assert evidence == (10,) and "forbidden action (huge-max-connections)" in reason, first["caps"]
    assert ("unexplained-change", 10) in first["herrings"]  # no hypothesis noted before it
    for channel, seen in effects.items():
        assert seen == first, channel
