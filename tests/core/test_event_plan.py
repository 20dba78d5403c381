"""Game-day event plans (pure): what a facilitator may ask for, the one-line refusals, each team's
seed, whether the machine can hold the teams, a team's phase, and the scoreboard's order."""

from __future__ import annotations

import pytest

from lab.core.event import Capacity, EventInvalid, Standing, parse_event, phase_of, rank, team_seeds
from lab.core.scoring import Phases

SCENARIOS = ["march-2023-db-overload", "flagsmith-2023-migration-lock"]
PLAN = {"event": "spring", "scenario": "march-2023-db-overload", "teams": ["red", "blue", {"name": "green",
                                                                                         "responder": "autopilot"}]}


def test_a_plan_with_names_alone_and_defaults():
    plan = parse_event(PLAN, SCENARIOS)
    assert [(t.name, t.responder) for t in plan.teams] == [("red", "people"), ("blue", "people"), ("green", "autopilot")]
    assert plan.stack == "local" and plan.start == "together" and plan.hints and plan.speed == 1
    assert plan.stack_name("red") == "spring-red"
    assert [plan.start_delay(i) for i in range(3)] == [0, 0, 0]
    staggered = parse_event({**PLAN, "start": "staggered", "stagger_s": 30}, SCENARIOS)
    assert [staggered.start_delay(i) for i in range(3)] == [0, 30, 60]


def test_each_team_gets_its_own_seed_and_the_event_seed_replays_them():
    plan = parse_event(PLAN, SCENARIOS)
    seeds = team_seeds(plan)
    assert len(set(seeds.values())) == 3 and seeds == team_seeds(parse_event(PLAN, SCENARIOS))
    assert seeds != team_seeds(parse_event({**PLAN, "seed": 2}, SCENARIOS))


@pytest.mark.parametrize("change, message", [
    ({"scenario": "march-2023-db-overlod"}, "scenario: unknown scenario 'march-2023-db-overlod'; did you mean 'march-2023-db-overload'?"),
    ({"teams": ["red", "red"]}, "teams: duplicate team 'red'"),
    ({"teams": []}, "teams: 0 team(s); an event has 2 to 30 teams"),
    ({"teams": ["solo"]}, "teams: 1 team(s); an event has 2 to 30 teams"),
    ({"teams": [f"t{i}" for i in range(500)]}, "teams: 500 team(s); an event has 2 to 30 teams"),
    ({"teams": ["red", "Blue Team"]}, "teams[1].name: "),
    ({"teams": ["red", {"name": "blue", "responder": "robot"}]}, "teams[1].responder: "),
    ({"stack": "kubernetes"}, "stack: "),
    ({"speed": 0}, "speed: "),
    ({"colour": "red"}, "colour: unknown field"),
    ("- just\n- a list\n", "expected a mapping with event, scenario, teams, ..., got a list"),
])
def test_a_bad_plan_is_refused_in_one_line_naming_the_field(change, message):
    data = change if isinstance(change, str) else {**PLAN, **change}
    with pytest.raises(EventInvalid) as err:
        parse_event(data, SCENARIOS)
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_capacity_refuses_what_does_not_fit_and_names_the_way_past_one_machine():
    machine = Capacity(cores=2, memory_mb=20_000, stack_cpu=0.5, stack_memory_mb=400)
    assert machine.fits() == 4 and machine.refusal(4, "local") is None
    refusal = machine.refusal(5, "local")
    assert refusal is not None and "at most 4, limited by CPU" in refusal and "Swarm" in refusal
    small = Capacity(cores=64, memory_mb=1_000, stack_cpu=0.5, stack_memory_mb=400)
    assert "at most 2, limited by memory" in (small.refusal(3, "local") or "")


def test_a_teams_phase_follows_its_milestones():
    assert phase_of(Phases(origin_s=10)) == "detecting"
    assert phase_of(Phases(origin_s=10, ack_s=20)) == "diagnosing"
    assert phase_of(Phases(origin_s=10, ack_s=20, diagnosis_s=40)) == "mitigating"
    assert phase_of(Phases(origin_s=10, ack_s=20, diagnosis_s=40, impact_start_s=5, impact_end_s=90)) == "recovered"
    assert phase_of(Phases(), "time_limit") == "time limit"


def test_the_scoreboard_ranks_by_score_then_the_faster_recovery_then_the_name():
    rows = [Standing("c", 80, 300, "recovered"), Standing("a", None, None, "waiting"), Standing("b", 80, 200, "recovered"),
            Standing("d", 95, None, "mitigating"), Standing("e", 80, 200, "recovered")]
    assert [r.team for r in rank(rows)] == ["d", "b", "e", "c", "a"]


def test_an_event_named_after_its_scenario_gets_a_short_name_cut_at_a_word():
    from lab.core.event import slug

    assert slug("flagsmith-2023-migration-lock") == "flagsmith-2023"
    assert slug("march-2023-db-overload") == "march-2023-db"
    assert slug("Spring Game Day!") == "spring-game-day"
    assert slug("supercalifragilisticexpialidocious") == "supercalifragili"
    assert slug("!!!") == "event"
