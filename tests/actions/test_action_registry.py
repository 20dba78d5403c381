"""Every toolbox action carries its facts (an example that validates, what observers see it as),
and the example its help shows is a command line that parses to those arguments."""

from __future__ import annotations

import shlex

import click
import pytest

from lab.actions import ACTIONS, cli
from lab.actions.base import ByArg
from lab.actions.cli import act, example_command
from lab.actions.perform import check
from lab.timeline.observers import OBSERVED_KINDS

CATEGORIES = ("comms", "inspect", "change")


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_every_action_carries_its_facts(name):
    action = ACTIONS[name]
    assert action.name == name and action.summary and action.category in CATEGORIES
    _, parsed = check(name, dict(action.example))  # the example validates
    seen = action.observed_as
    if isinstance(seen, ByArg):
        assert seen.arg in action.args.model_fields
        for value, kinds in seen.kinds.items():
            check(name, {**action.example, seen.arg: value})  # every value it names is a valid argument
            assert set(kinds) <= set(OBSERVED_KINDS)
    else:
        assert set(seen) <= set(OBSERVED_KINDS)
    if action.category != "change":  # words and reads change nothing an observer could see
        assert action.observed(parsed.model_dump()) == ()


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_the_example_in_the_help_parses_to_the_example_arguments(name):
    action = ACTIONS[name]
    comms = action.category == "comms"
    prefix = ["gameday", name] if comms else ["gameday", "act", name]
    words = shlex.split(example_command(action))
    assert words[:len(prefix)] == prefix
    command: click.Command = getattr(cli, name) if comms else act.commands[name]
    with command.make_context(name, words[len(prefix):]) as ctx:
        args = {k.removeprefix("arg_"): v for k, v in ctx.params.items() if k.startswith("arg_") and v is not None}
    assert check(name, args)[1] == check(name, dict(action.example))[1]


def test_restart_is_seen_by_the_service_it_restarts():
    restart = ACTIONS["restart"]
    assert restart.observed({"service": "db"}) == ("db.restarted", "db.connections_terminated")
    assert restart.observed({"service": "web"}) == ("web.restarted", "web.scaled")
    assert restart.observed({"service": "loadgen"}) == ()
