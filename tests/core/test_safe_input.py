"""lab.core.safe_input: the one reader for YAML and JSON, over a corpus of hostile bytes built here,
and the scenario parser under random mutation of the real scenarios (hypothesis)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hostile_inputs import MIB, alias_bomb, json_cases, yaml_cases
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.actions import ACTIONS
from lab.catalog import CATALOG, alert_names
from lab.core.safe_input import (
    InputInvalid,
    Limits,
    decode,
    expect,
    load_form,
    load_json,
    load_value,
    load_yaml,
)
from lab.core.scenario import ScenarioInvalid, parse_scenario
from lab.faults import FAULT_PARAMS


@pytest.mark.parametrize("case", yaml_cases(), ids=lambda c: c.name)
def test_every_hostile_yaml_document_is_one_line_of_input_invalid_quickly(case):
    started = time.monotonic()
    with pytest.raises(InputInvalid) as err:
        load_yaml(case.data)
    assert time.monotonic() - started < 2.0
    message = str(err.value)
    assert case.says in message and "\n" not in message and len(message) < 300


@pytest.mark.parametrize("case", json_cases(), ids=lambda c: c.name)
def test_every_hostile_json_body_is_one_line_of_input_invalid_quickly(case):
    started = time.monotonic()
    with pytest.raises(InputInvalid) as err:
        load_json(case.data)
    assert time.monotonic() - started < 2.0
    assert case.says in str(err.value) and "\n" not in str(err.value)


def test_aliases_when_allowed_still_count_what_they_expand_to():
    assert load_yaml(b"a: &x [1, 2]\nb: *x\n", Limits(aliases=True)) == {"a": [1, 2], "b": [1, 2]}
    started = time.monotonic()
    with pytest.raises(InputInvalid, match=r"more than 200,000 YAML nodes \(aliases expanded\)"):
        load_yaml(alias_bomb(), Limits(aliases=True))
    assert time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    "text, says",
    [
        ("a: 2023-13-45\n", "not valid YAML: month must be in 1..12"),
        ("a: " + "9" * 5000 + "\n", "not valid YAML: Exceeds the limit (4300 digits)"),
        ("? [a]\n: b\n", "found unhashable key"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
        ("a: [1, 2\n", "not valid YAML at line 2"),
        ("a: !custom 1\n", "tag !custom is not allowed"),
        ("a: 1\n\udce9", "not UTF-8: byte 0xe9 at offset 5"),  # an argv decoded with surrogateescape
    ],
)
def test_what_the_yaml_library_itself_refuses_is_input_invalid_too(text, says):
    with pytest.raises(InputInvalid) as err:
        load_yaml(text)
    assert says in str(err.value)


def test_plain_documents_read_as_before():
    assert load_yaml(b"") is None
    assert load_yaml("\ufeffid: x\nlist: [1, 2.5, true, null]\nwhen: 2023-03-01\n") == {
        "id": "x", "list": [1, 2.5, True, None], "when": __import__("datetime").date(2023, 3, 1)}
    assert load_json(b'{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert decode(b"\xef\xbb\xbfhello") == "hello"


def test_limits_are_data_the_caller_can_widen():
    big = b"a: " + b"x" * (2 * MIB) + b"\n"
    with pytest.raises(InputInvalid, match="larger than the limit of 1 MiB"):
        load_yaml(big)
    assert len(load_yaml(big, Limits().with_bytes(3 * MIB))["a"]) == 2 * MIB
    with pytest.raises(InputInvalid, match="larger than the limit of 1,000 bytes"):
        load_json(b"[" + b"1," * 600 + b"1]", Limits(max_bytes=1000))


def test_command_line_values():
    assert load_value("30") == 30 and load_value("[a, b]") == ["a", "b"] and load_value("") == ""
    with pytest.raises(InputInvalid, match="aliases"):
        load_value("&a [1, *a]")
    with pytest.raises(InputInvalid, match="larger than the limit of 65,536 bytes"):
        load_value("x" * 70_000)


def test_top_level_type_is_named():
    with pytest.raises(InputInvalid, match="expected a mapping of sections, got a list"):
        expect(load_yaml(b"- a\n"), dict, "a mapping of sections")
    with pytest.raises(InputInvalid, match="got a string"):
        expect(load_json(b'"x"'), list, "an array")


def test_forms_must_be_utf8_once_decoded_and_name_the_field():
    assert load_form(b"text=caf%C3%A9&n=1&empty=") == [("text", "café"), ("n", "1"), ("empty", "")]
    with pytest.raises(InputInvalid, match="form field 'text': not UTF-8: byte 0xe9 at offset 3"):
        load_form(b"ok=1&text=caf%E9")
    with pytest.raises(InputInvalid, match="byte 0xff at offset 5 is not URL-encoded"):
        load_form(b"text=\xff")
    with pytest.raises(InputInvalid, match="larger than the limit"):
        load_form(b"t=" + b"x" * 2000, Limits(max_bytes=1024))


# --- the real scenarios, mutated -------------------------------------------------------------

SCENARIOS = [p.read_text(encoding="utf-8") for p in sorted(Path(CATALOG.scenario_dir).glob("*.yaml"))]
RUNBOOKS = CATALOG.runbook_names()
ALERTS = alert_names()
SWAPS = ["0", "-1", "1e309", "true", "null", "[]", "{}", "''", "\"x\"", "[1, [2, [3]]]", "{a: {b: c}}", "&a x", "*a",
         "!!python/object:os.system x", "2023-02-30", "9" * 5000, "é\u202e\u0000", "\udce9"]


def _parse(text: str) -> None:
    started = time.monotonic()
    try:
        parse_scenario(text, FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)
    except ScenarioInvalid as exc:
        assert "\n" not in str(exc) and str(exc)
    assert time.monotonic() - started < 2.0


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SCENARIOS))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "swap", "unicode", "duplicate-line"]))
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "delete":
            start = draw(st.integers(0, len(text)))
            text = text[:start] + text[start + draw(st.integers(1, 200)):]
        elif kind == "swap" and lines:
            key, sep, _ = lines[at].partition(":")
            if sep:
                lines[at] = f"{key}: {draw(st.sampled_from(SWAPS))}\n"
            text = "".join(lines)
        elif kind == "unicode":
            start = draw(st.integers(0, len(text)))
            text = text[:start] + draw(st.text(min_size=1, max_size=8)) + text[start:]
        elif lines:
            lines.insert(at, lines[at])
            text = "".join(lines)
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_real_scenarios_give_a_one_line_error_or_a_scenario(text):
    _parse(text)


def test_the_real_scenarios_still_parse():
    for text in SCENARIOS:
        parse_scenario(text, FAULT_PARAMS, RUNBOOKS, ACTIONS, ALERTS)
