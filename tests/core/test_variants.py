"""Seeded variants (pure): a seed always gives the same variant, other seeds other details, every
value a variant can take is checked when the scenario is read, and the concrete scenario parses."""

from __future__ import annotations

import copy

import pytest
import yaml

from lab.actions import ACTIONS
from lab.core.scenario import ScenarioInvalid, parse_scenario
from lab.core.variants import Variants, apply, choose, seeds_for
from lab.faults import FAULT_PARAMS
from tests.core.test_scenario import ALERTS, BASE, RUNBOOKS

VARIED = {
    **copy.deepcopy(BASE),
    "hints": [{"id": "look", "text": "Look at the database."}],
    "variants": {
        "params": {"a.connections": {"range": [3, 9]}, "a.application_name": {"choices": ["arcade", "arcade-jobs"]},
                   "a.ramp_s": {"range": [0.5, 2.5]}},
        "jitter_s": 10,
        "hints": {"look": ["What does PostgreSQL say?", "Count the sessions."]},
    },
}


def parse(data: dict):  # type: ignore[no-untyped-def]
    return parse_scenario(yaml.safe_dump(data), FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)


def concrete(seed: int):  # type: ignore[no-untyped-def]
    scenario = parse(VARIED)
    variant = choose(scenario.variants, [f.id for f in scenario.faults], seed)
    return variant, parse(apply(copy.deepcopy(VARIED), variant))


def test_the_same_seed_gives_the_same_variant_and_other_seeds_other_details():
    first, again = concrete(7), concrete(7)
    assert first[0] == again[0] and first[1] == again[1]
    seen = {tuple(sorted(concrete(seed)[0].params.items())) for seed in range(20)}
    assert len(seen) >= 10  # 7 x 2 x a float: seeds rarely collide
    variant, scenario = first
    step = scenario.fault("a")
    assert step.params["connections"] == variant.params["a.connections"] and 3 <= step.params["connections"] <= 9
    assert isinstance(step.params["connections"], int)  # a range of whole numbers draws whole numbers
    assert 0.5 <= step.params["ramp_s"] <= 2.5
    assert step.params["application_name"] in ("arcade", "arcade-jobs")
    assert 0 <= step.at_s <= 10 and scenario.fault("b").at_s >= 5  # jitter only delays
    assert scenario.hints[0].text in ("What does PostgreSQL say?", "Count the sessions.")
    assert scenario.seed == 7 and scenario.variants is None  # the concrete scenario says its seed
    assert variant.summary()["seed"] == 7


def test_seeds_for_gives_distinct_repeatable_seeds():
    assert seeds_for(1, 30) == seeds_for(1, 30) and len(set(seeds_for(1, 30))) == 30
    assert seeds_for(1, 5) != seeds_for(2, 5)


def with_variants(**variants: object) -> dict:
    data = copy.deepcopy(VARIED)
    data["variants"] = variants
    return data


@pytest.mark.parametrize("variants, message", [
    ({"params": {"z.connections": {"range": [1, 2]}}},
     "variants.params.z.connections: name a fault step and its parameter as <fault id>.<param>; fault ids: a, b"),
    ({"params": {"a.conections": {"range": [1, 2]}}},
     "variants.params.a.conections: connection_hog has no parameter 'conections'; did you mean 'connections'?"),
    ({"params": {"a.connections": {"range": [1, 9000]}}},
     "variants.params.a.connections: the value 9000 is not valid for connection_hog: connections: "),
    ({"params": {"a.state": {"choices": ["idle", "busy"]}}},
     "variants.params.a.state: the value 'busy' is not valid for connection_hog: state: "),
    ({"params": {"a.connections": {"range": [5, 2]}}}, "variants.params.a.connections: range: 5 is not below 2"),
    ({"params": {"a.connections": {"range": [1, 2], "choices": [1, 2]}}},
     "variants.params.a.connections: give exactly one of range"),
    ({"hints": {"nope": ["x"]}}, "variants.hints.nope: unknown hint"),
    ({"hints": {"look": []}}, "variants.hints.look: give one or more non-empty wordings"),
    ({"jitter_s": -1}, "variants.jitter_s: "),
    ({"colour": "red"}, "variants.colour: "),
])
def test_a_variant_that_could_not_run_is_refused_when_the_scenario_is_read(variants, message):
    with pytest.raises(ScenarioInvalid) as err:
        parse(with_variants(**variants))
    assert str(err.value).startswith(message), str(err.value)
    assert "\n" not in str(err.value)


def test_a_scenario_without_variants_has_none():
    assert parse(BASE).variants is None and parse(BASE).seed is None
    assert Variants().params == {} and choose(Variants(), ["a"], 3).jitter == {}
