"""Scoring a human team fairly (pure: the scorer, the catalog's runbooks and scenarios):

- the team's own words: a diagnosis in any of its usual phrasings is placed as a facilitator would;
- one act whatever the channel: the toolbox, the shell and an observed change weigh the same;
- luck below par: a fix with no evidence before it and no diagnosis named never reaches par;
- hints cost what they say; changes before any hypothesis are unexplained; a restart's own harm is
  its own line; the facilitator accepts or rejects a hypothesis the vocabulary did not place.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.catalog import CATALOG
from lab.core import acts
from lab.core.scoring import Sample, Timeline, score
from lab.core.timeline import Event, Source

RUNBOOKS = {p.stem: CATALOG.runbook(p.stem) for p in sorted(CATALOG.runbook_dir.glob("*.md"))}
MARCH = CATALOG.load(CATALOG.resolve("march-2023-db-overload"))[0]
MARCH_RUNBOOK = RUNBOOKS["db-connection-exhaustion"]


def ev(i: int, t: float, kind: str, source: Source = Source.TEAM, **data: object) -> Event:
    return Event(id=i, wall=1e9 + t, offset_s=t, source=source, kind=kind, actor="x", data=dict(data))


def act(i: int, t: float, name: str, args: dict | None = None, **extra: object) -> Event:
    kind = name if name in ("ack", "role", "update", "note", "escalate", "resolve") else f"action.{name}"
    return ev(i, t, kind, action=name, args=args or {}, result={}, ok=True, **extra)


def probe(down_from: float, up_at: float, until: float = 900.0, every: float = 5.0, low: int = 0) -> tuple[Sample, ...]:
    return tuple(Sample(t * every, 10, low if down_from <= t * every < up_at else 10) for t in range(int(until / every)))


BEFORE = [ev(1, 0, "drill.started", Source.RUNNER, scenario="march", speed=1.0),
          ev(2, 20, "fault.injected", Source.RUNNER, step="leak"),
          ev(3, 60, "alert.firing", Source.MONITOR, alert="SiteAvailabilityLow", value=0.0)]
COMMS = [act(4, 70, "ack"), act(5, 75, "role", {"role": "IC", "name": "ann"}),
         act(6, 80, "update", {"audience": "internal", "text": "Arcade down; next update in 30 min."})]
INFORMED = [*BEFORE, *COMMS, act(7, 90, "inspect-db"),
            act(8, 110, "note", {"hypothesis": "db-connections-exhausted", "text": "leaked sessions"}),
            act(9, 120, "terminate-idle-connections", {"older_than_s": 2, "state": "idle in transaction"}),
            act(10, 150, "inspect-db"),
            act(11, 160, "update", {"audience": "external", "text": "recovering"}),
            act(12, 170, "note", {"text": "TODO: alert on connections above 90 %"})]


def card(events, samples=None, runbook=MARCH_RUNBOOK, scenario=MARCH):
    return score(Timeline(tuple(events), samples if samples is not None else probe(50, 140)), runbook, scenario)


# --- the team's own words ------------------------------------------------------------------------

# (runbook, hypothesis tag as typed or None, note text, the hypothesis a facilitator reads in it)
PHRASINGS = [
    ("db-connection-exhaustion", "connection-leak", "sessions leak", "db-connections-exhausted"),
    ("db-connection-exhaustion", "Too many connections", "", "db-connections-exhausted"),
    ("db-connection-exhaustion", "pool_exhausted", "", "db-connections-exhausted"),
    ("db-connection-exhaustion", None, "Looks like a connection leak: 36 sessions idle in transaction", "db-connections-exhausted"),
    ("db-connection-exhaustion", None, "we are out of connections, every slot taken", "db-connections-exhausted"),
    ("db-connection-exhaustion", None, "max_connections reached, most sessions idle-in-transaction", "db-connections-exhausted"),
    ("db-connection-exhaustion", None, "It's not the network, it's leaked connections", "db-connections-exhausted"),
    ("db-connection-exhaustion", None, "Ruled out network failure; the database is overloaded", "db-overloaded"),
    ("db-connection-exhaustion", None, "network is down?", "network-failure"),
    ("db-connection-exhaustion", "network", "", "network-failure"),
    ("db-connection-exhaustion", None, "packet loss between web and db", "network-failure"),
    ("db-connection-exhaustion", None, "web servers overloaded, need more workers", "web-overloaded"),
    ("db-connection-exhaustion", None, "players are angry", None),
    ("db-connection-exhaustion", "gremlins", "", None),
    ("db-too-many-clients", None, "PostgreSQL says too many clients", "db-connections-exhausted"),
    ("db-too-many-clients", "cdn", "", "cdn-failure"),
    ("db-too-many-clients", None, "the CDN is down, Cloudflare shows timeouts", "cdn-failure"),
    ("db-too-many-clients", None, "No CDN failure here: too many clients on the database", "db-connections-exhausted"),
    ("lock-queue-behind-ddl", None, "queries waiting on a lock behind the DROP TRIGGER", "lock-queue"),
    ("lock-queue-behind-ddl", "lock-contention", "", "lock-queue"),
    ("lock-queue-behind-ddl", None, "autovacuum is eating the disk", "vacuum-overload"),
    ("lock-queue-behind-ddl", None, "not vacuum: blocked queries queued behind an access exclusive lock", "lock-queue"),
    ("migration-lock-pileup", None, "the migration's ALTER TABLE waits; migration lock blocks every query", "migration-lock-queue"),
    ("migration-lock-pileup", "bad-deploy", "", "bad-release"),
    ("migration-lock-pileup", None, "bad release, roll back the release", "bad-release"),
    ("migration-lock-pileup", None, "the migration lock holds everything up", "migration-lock-queue"),
    ("overload-health-check-churn", None, "health checks kill workers and the restart loop adds load", "overload-churn"),
    ("overload-health-check-churn", "traffic-surge", "", "traffic-overload"),
    ("overload-health-check-churn", None, "too much traffic: a traffic spike several times normal", "traffic-overload"),
    ("overload-health-check-churn", None, "web tier overloaded", "web-overloaded"),
    ("slow-db-link", None, "slow link to the database: every round trip takes 250 ms", "network-latency"),
    ("slow-db-link", "latency", "", "network-latency"),
    ("slow-db-link", None, "database overloaded", "db-overloaded"),
    ("slow-db-link", None, "the database is idle, not overloaded; latency to the database is the problem", "network-latency"),
]


@pytest.mark.parametrize(("runbook", "tag", "text", "expected"), PHRASINGS)
def test_a_diagnosis_is_read_in_the_teams_own_words(runbook, tag, text, expected):
    assert RUNBOOKS[runbook].names(tag, text) == expected


def test_a_correct_diagnosis_in_other_words_scores_like_the_runbooks_tag():
    exact = card(INFORMED)
    worded = [e if e.id != 8 else act(8, 110, "note", {"hypothesis": "connection-leak",
                                                       "text": "36 sessions idle in transaction: a leak"})
              for e in INFORMED]
    in_text = [e if e.id != 8 else act(8, 110, "note", {"text": "36 sessions idle in transaction from arcade: a connection leak"})
               for e in INFORMED]
    for events in (worded, in_text):
        other = card(events)
        assert other.total == exact.total
        assert other.component("diagnosis").points == exact.component("diagnosis").points
        assert dict(other.steps)["hypothesis"] == 8 and other.phases.diagnosis_s == 110


def test_every_runbook_offers_right_and_wrong_causes_in_its_vocabulary():
    for name, runbook in RUNBOOKS.items():
        offered = {h.id for h in runbook.vocabulary()}
        right = set(runbook.diagnosis.hypotheses) if runbook.diagnosis else set()
        assert right and right <= offered, name
        assert len(offered - right) >= 3, f"{name}: the list would give the answer away"
        assert all(h.words for h in runbook.hypotheses), name


def test_an_unmatched_hypothesis_is_listed_and_the_facilitators_verdict_changes_the_card():
    events = [e if e.id != 8 else act(8, 110, "note", {"hypothesis": "sessions-hoarded", "text": "arcade hoards sessions"})
              for e in INFORMED]
    before = card(events)
    assert before.unmatched == ((8, "sessions-hoarded"),)
    assert dict(before.steps)["hypothesis"] is None and before.phases.diagnosis_s is None
    accepted = card([*events, ev(50, 900, "diagnosis.accepted", Source.FACILITATOR, event=8,
                                 hypothesis="db-connections-exhausted")])
    assert accepted.total > before.total and accepted.phases.diagnosis_s == 110
    assert accepted.judged == ((8, "db-connections-exhausted"),)
    rejected = card([*events, ev(50, 900, "diagnosis.rejected", Source.FACILITATOR, event=8)])
    assert rejected.judged == ((8, "rejected"),) and rejected.total <= before.total


# --- hints, unexplained changes, what the fix cost ---------------------------------------------------

def test_each_released_hint_costs_what_it_says():
    base = card(INFORMED)
    hinted = card([*INFORMED, ev(40, 85, "hint.released", Source.FACILITATOR, id="look-at-db", cost=5, text="..."),
                   ev(41, 86, "hint.released", Source.FACILITATOR, id="idle-in-tx", cost=10, text="...")])
    assert hinted.total == pytest.approx(base.total - 15)
    assert [d.evidence for d in hinted.deductions] == [(40,), (41,)]
    assert "idle-in-tx" in hinted.deductions[1].reason


def test_a_change_before_any_hypothesis_is_an_unexplained_change():
    events = [*INFORMED, act(30, 100, "set-db-setting", {"name": "application_name", "value": "x"})]
    herrings = dict((eid, name) for name, eid in card(events).herrings)
    assert herrings == {30: "unexplained-change"}
    later = [*INFORMED, act(30, 115, "set-db-setting", {"name": "application_name", "value": "x"})]
    assert card(later).herrings == ()  # after the hypothesis: explained


def test_a_restart_that_drops_players_is_its_own_line_of_impact():
    events = [*INFORMED, act(30, 200, "restart", {"service": "web"}, duration_s=3.0)]
    hurt = probe(50, 140) [:40] + tuple(Sample(t * 5.0, 10, 2 if 200 <= t * 5 < 220 else 10) for t in range(40, 180))
    c = card(events, hurt)
    fix = next(p for p in c.component("impact").items if p.reason.startswith("what the fix cost"))
    assert fix.evidence == (30,) and fix.points < fix.max and "1 restart(s)" in fix.reason
    calm = next(p for p in card(INFORMED).component("impact").items if p.reason.startswith("what the fix cost"))
    assert calm.points == calm.max


# --- one act, every channel -------------------------------------------------------------------------

HARM = {"name": "max_connections", "value": "8000"}


def channel(way: str, i: int, t: float) -> Event:
    """max_connections raised to 8000 through one channel."""
    if way == "toolbox":
        return act(i, t, "set-db-setting", HARM)
    if way == "console":
        return act(i, t, "set-db-setting", {"name": "max_connections", "value": "8000"}, actor_source="console")
    if way == "shell":
        return ev(i, t, "shell.command", command='psql -c "ALTER SYSTEM SET max_connections = 8000"', exit_code=0)
    return ev(i, t, "db.setting_changed", Source.OBSERVER, name="max_connections", value="8000")


CHANNELS = ("toolbox", "console", "shell", "observer")


@pytest.mark.parametrize("way", CHANNELS)
def test_the_same_harmful_act_is_the_same_act_and_costs_the_same_through_every_channel(way):
    event = channel(way, 60, 130)
    assert acts.act_of(event).action == "set-db-setting"
    assert {k: str(v) for k, v in acts.act_of(event).args.items() if k in HARM} == HARM
    c = card([*INFORMED, event])
    reference = card([*INFORMED, channel("toolbox", 60, 130)])
    assert c.total == reference.total and c.cap is not None and "huge-max-connections" in c.cap.reason
    assert c.total < card(INFORMED).total


# --- properties ---------------------------------------------------------------------------------------

TEAM_ACTS = st.sampled_from([
    ("inspect-db", {}), ("check-network", {}), ("restart", {"service": "web"}), ("scale-web", {"workers": 4}),
    ("terminate-idle-connections", {"older_than_s": 2, "state": "idle in transaction"}),
    ("note", {"hypothesis": "network-failure", "text": "network?"}),
    ("note", {"text": "a connection leak, sessions idle in transaction"}),
    ("set-db-setting", {"name": "work_mem", "value": "8MB"}), ("update", {"audience": "internal", "text": "next update soon"}),
])


@st.composite
def team_paths(draw):
    moves = draw(st.lists(st.tuples(TEAM_ACTS, st.floats(61, 800)), max_size=8))
    return [act(100 + i, t, name, dict(args)) for i, ((name, args), t) in enumerate(moves)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=team_paths(), way=st.sampled_from(CHANNELS), at=st.floats(61, 800))
def test_scoring_is_invariant_to_the_channel_of_an_act(path, way, at):
    base = [*BEFORE, *path]
    one = card([*base, channel(way, 99, at)])
    other = card([*base, channel("toolbox", 99, at)])
    assert one.total == other.total and one.herrings == other.herrings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=team_paths(), at=st.floats(61, 800), way=st.sampled_from(CHANNELS))
def test_adding_a_forbidden_act_never_raises_the_score(path, at, way):
    base = [*BEFORE, *COMMS, *path]
    assert card([*base, channel(way, 99, at)]).total <= card(base).total


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fix_at=st.floats(61, 300), comms=st.booleans(), restart=st.booleans(),
       words=st.lists(st.sampled_from(["players are angry", "TODO: alerting", "looking"]), max_size=3))
def test_a_blind_fix_never_reaches_par(fix_at, comms, restart, words):
    """However good the rest, a fix with nothing looked at before it and no cause ever named is capped below par."""
    fix = act(90, fix_at, "restart", {"service": "db"}) if restart else \
        act(90, fix_at, "terminate-idle-connections", {"older_than_s": 2, "state": "idle in transaction"})
    notes = [act(91 + i, fix_at + 10 + i, "note", {"text": text}) for i, text in enumerate(words)]
    c = card([*BEFORE, *(COMMS if comms else []), fix, *notes], probe(50, fix_at + 5))
    assert c.total < MARCH.par_score and c.component("diagnosis").rating == "U"
    assert any("blind fix" in cap.reason for cap in c.caps)


def test_an_informed_fix_is_not_a_blind_one():
    c = card(INFORMED)
    assert c.total >= MARCH.par_score and not c.caps


def test_what_the_card_says_is_in_its_json():
    c = card([*INFORMED, ev(40, 85, "hint.released", Source.FACILITATOR, id="look-at-db", cost=5, text="...")])
    data = c.to_dict()
    assert data["deductions"][0]["points"] == -5 and not data["caps"] and not data["unmatched"]
    assert "look-at-db" in data["deductions"][0]["reason"]
