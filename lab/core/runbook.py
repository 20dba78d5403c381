"""Runbooks: Markdown for people, with a machine-readable block the scorer reads.

    runbook.md ──front matter (--- yaml ---) or ```yaml runbook fence──▶ dict ──pydantic──▶ Runbook
                                                                          ──cross-checks──▶ valid Runbook
                                          (step ids unique, `after` refers to steps and has no cycle,
                                           actions exist, regexes compile, diagnosis evidence known)

Pure: the caller reads the file and passes the toolbox's action names in; the acts only the
recorded shell records (`destructive-sql`, `kill-worker`) are valid too. Every error is one line:
`steps[2].match.acton: unknown field; did you mean 'action'?` (the I/O layer prefixes the file).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from types import EllipsisType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lab.core import acts
from lab.core.errors import did_you_mean, first_error
from lab.core.safe_input import InputInvalid, load_yaml
from lab.core.shell import SHELL_ONLY_ACTS
from lab.core.timeline import Event

ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
FENCE = re.compile(r"^```ya?ml[ \t]+runbook[ \t]*\n(.*?)^```[ \t]*$", re.S | re.M)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "in", "regex")


class Match(_Model):
    """A predicate on one event; every field given must hold.

    `action` and `args` are compared with the act the event amounts to, whatever the channel
    (lab.core.acts: a toolbox action, a classified shell command, an observed change). A value in
    `args` or `result` is either compared as is or is one operator: `{gte: 1000}`, `{lt: 5}`,
    `{in: [db, web]}`, `{ne: 0}`, `{regex: "^max_"}` (numbers written as text compare as numbers)."""

    kind: str | None = Field(None, description="event kind, e.g. ack, note, action.inspect-db, alert.firing")
    action: str | None = Field(None, description="a toolbox action name, or an act only the shell or observers see")
    args: dict[str, Any] = Field(default_factory=dict)
    result: dict[str, Any] = Field(default_factory=dict)
    command: str | None = Field(None, description="regex searched in a recorded shell command")
    hypothesis: str | None = Field(None, description="a note's hypothesis tag")
    text: str | None = Field(None, description="regex searched in a note's or update's text")

    @field_validator("args", "result")
    @classmethod
    def _operators(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, want in value.items():
            if isinstance(want, dict):
                if len(want) != 1 or next(iter(want)) not in OPERATORS:
                    raise ValueError(f"{key}: an operator is one of {', '.join(OPERATORS)} with its operand, "
                                     f"e.g. {{gte: 1000}}")
                op, operand = next(iter(want.items()))
                if op == "regex":
                    try:
                        re.compile(str(operand))
                    except re.error as exc:
                        raise ValueError(f"{key}.regex: not a valid regular expression: {exc}") from None
                if op == "in" and not isinstance(operand, list):
                    raise ValueError(f"{key}.in: expected a list of values")
                if op in ("gt", "gte", "lt", "lte") and _number(operand) is None:
                    raise ValueError(f"{key}.{op}: expected a number")
        return value

    @field_validator("command", "text")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def kinds(self) -> frozenset[str] | None:
        """The event kinds this predicate can match (None: any kind)."""
        if self.kind is not None:
            return frozenset({self.kind})
        if self.action is not None:
            return frozenset({self.action, f"action.{self.action}", *acts.kinds_of(self.action)})
        if self.hypothesis is not None:
            return frozenset({"note"})
        return None

    def matches(self, event: Event, act: acts.Act | None | EllipsisType = ..., hypothesis: str | None = None) -> bool:
        """Whether `event` satisfies every field of this predicate. `act`: what the event amounts to
        (computed when not given; None: nothing); `hypothesis`: the hypothesis a note names, as the runbook's
        vocabulary resolved it (default: its tag as written)."""
        data = event.data
        if self.command is not None and not _regex(self.command).search(str(data.get("command") or "")):
            return False
        if self.kind is not None and event.kind != self.kind:
            return False
        args: Mapping[str, Any] | None = None
        if self.action is not None and event.kind != self.action:  # a word of an incident (escalate) is its kind
            act = acts.act_of(event) if act is ... else act
            if not isinstance(act, acts.Act) or act.action != self.action:
                return False
            args = act.args
        if self.args and not _subset(self.args, args if args is not None else arguments(event)):
            return False
        if self.result and not _subset(self.result, data.get("result") if isinstance(data.get("result"), dict) else data):
            return False
        if self.hypothesis is not None:
            named = hypothesis if hypothesis is not None else (args if args is not None else arguments(event)).get("hypothesis")
            if named != self.hypothesis:
                return False
        if self.text is not None and not _regex(self.text, re.I).search(str(arguments(event).get("text") or "")):
            return False
        return True


@lru_cache(maxsize=256)
def _regex(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


def arguments(event: Event) -> dict[str, Any]:
    """An event's arguments: `data.args` for toolbox actions, else `data` itself."""
    args = event.data.get("args")
    return args if isinstance(args, dict) else event.data


def _subset(want: dict[str, Any], have: Any) -> bool:
    return isinstance(have, Mapping) and all(k in have and _holds(v, have[k]) for k, v in want.items())


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().strip("'\""))
        except ValueError:
            return None
    return None


def _same(want: Any, have: Any) -> bool:
    if want == have:
        return True
    if isinstance(want, str) and isinstance(have, str):
        if want.lower() == have.lower():
            return True
        if not (want[:1].isdigit() and have[:1].isdigit()):  # only numbers written as text compare as numbers
            return False
    a, b = _number(want), _number(have)
    if a is not None and b is not None:
        return a == b
    return False


def _holds(want: Any, have: Any) -> bool:
    """One value of a match against the event's: equal (numbers as numbers, text ignoring case), or
    the one operator `want` names."""
    if not isinstance(want, dict):
        return _same(want, have)
    op, operand = next(iter(want.items()))
    if op == "eq":
        return _same(operand, have)
    if op == "ne":
        return not _same(operand, have)
    if op == "in":
        return any(_same(o, have) for o in operand)
    if op == "regex":
        return have is not None and bool(_regex(str(operand)).search(str(have)))
    value, bound = _number(have), _number(operand)
    if value is None or bound is None:
        return False
    return {"gt": value > bound, "gte": value >= bound, "lt": value < bound, "lte": value <= bound}[op]


class Step(_Model):
    """One thing the runbook expects the team to do."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    required: bool = True
    match: Match | None = None
    any_of: list[Match] = Field(default_factory=list, description="alternatives; any one satisfies the step")
    after: list[str] = Field(default_factory=list, description="step ids that should come first")
    target_s: float | None = Field(None, gt=0, description="seconds after the first alert")
    evidence: bool = Field(False, description="gathers evidence (counts before a diagnosis or a change)")
    mitigation: bool = Field(False, description="removes the cause (the postmortem's resolution)")

    def predicates(self) -> list[Match]:
        return ([self.match] if self.match else []) + list(self.any_of)


class AntiPattern(_Model):
    """A red herring: a tempting move that does harm here."""

    id: str = Field(pattern=ID_PATTERN)
    match: Match
    harm: str = Field(min_length=1, description="what it costs, in one line")


class Forbidden(_Model):
    """An action that must never happen in a drill (caps the score)."""

    id: str = Field(pattern=ID_PATTERN)
    match: Match
    why: str = Field(min_length=1)


class Comms(_Model):
    """Communication expectations, in seconds."""

    ic_within_s: float = Field(600, gt=0, description="incident commander named after the acknowledgement")
    first_internal_within_s: float = Field(600, gt=0, description="first internal update after the first alert")
    internal_every_s: float = Field(1800, gt=0, description="internal update cadence while users are affected")
    first_external_within_s: float = Field(900, gt=0, description="external update once users are affected this long")
    next_update_pattern: str = Field(r"next update", description="regex an internal update should contain")


class Hypothesis(_Model):
    """A cause a team may name, in the words teams use: its tag, other tags for it, and phrases that
    name it in a note's text (matched as whole words, ignoring case; a phrase just after "not",
    "no" or "ruled out" does not count)."""

    id: str = Field(pattern=ID_PATTERN)
    aliases: list[str] = Field(default_factory=list, description="other tags that mean the same")
    words: list[str] = Field(default_factory=list, description="phrases that name it in a note's text")


NEGATIONS = ("not", "no", "isn't", "isnt", "never", "ruled out", "rule out", "rules out", "not the", "nothing to do with")
_GAP = r"[^\w;,.:!?]"  # between words, within one clause (a negation does not cross punctuation)
_NEGATED = re.compile(r"(?:\b(?:" + "|".join(re.escape(n) for n in NEGATIONS) + r")\b)" + _GAP + r"*(?:[\w']+" + _GAP
                      + r"+){0,2}$", re.I)


def tag(value: str) -> str:
    """A hypothesis tag as compared: lower case, words joined by '-'."""
    return re.sub(r"[\s_]+", "-", value.strip().lower())


class Diagnosis(_Model):
    """What counts as the correct diagnosis, and which steps are its evidence."""

    hypotheses: list[str] = Field(min_length=1, description="hypothesis tags that name the real cause")
    evidence: list[str] = Field(min_length=1, description="step ids whose events back the hypothesis")


class Weights(_Model):
    """Points per component (they should add up to 100)."""

    impact: float = Field(25, ge=0)
    phase_times: float = Field(20, ge=0)
    diagnosis: float = Field(15, ge=0)
    adherence: float = Field(20, ge=0)
    coordination: float = Field(15, ge=0)
    learning: float = Field(5, ge=0)


class Par(_Model):
    """Par times and impact: full points at par, zero at the scenario's time limit."""

    ack_s: float = Field(300, gt=0)
    diagnosis_s: float = Field(900, gt=0)
    mitigation_s: float = Field(1800, gt=0)
    impact_s: float = Field(600, gt=0, description="outage-seconds (seconds x share of failed requests)")


class ScoringConfig(_Model):
    """Weights, par times, and the caps a forbidden action and a blind fix impose."""

    weights: Weights = Weights()
    par: Par = Par()
    forbidden_cap: float = Field(25, ge=0, le=100)
    blind_fix_cap: float = Field(
        60, ge=0, le=100, description="the most a drill scores whose fix came with no evidence gathered before it "
                                      "and no diagnosis named at any point (lucky, not capable): keep it below par")
    unexplained_changes: bool = Field(
        True, description="count a change made before any hypothesis was noted as the anti-pattern "
                          "'unexplained-change'")


class Runbook(_Model):
    """The machine part of a runbook; `markdown` keeps the human part."""

    id: str = Field(pattern=ID_PATTERN)
    title: str
    steps: list[Step] = Field(min_length=1)
    anti_patterns: list[AntiPattern] = Field(default_factory=list)
    forbidden: list[Forbidden] = Field(default_factory=list)
    comms: Comms = Comms()
    diagnosis: Diagnosis | None = None
    hypotheses: list[Hypothesis] = Field(default_factory=list,
                                         description="the causes teams may name, right and wrong, with their words")
    followups: list[str] = Field(default_factory=list)
    scoring: ScoringConfig = ScoringConfig()
    markdown: str = ""

    def step(self, step_id: str) -> Step:
        return next(step for step in self.steps if step.id == step_id)

    def vocabulary(self) -> list[Hypothesis]:
        """Every hypothesis the runbook knows: its declared ones, then the tags its rules and diagnosis
        name without declaring them."""
        known = {h.id for h in self.hypotheses}
        named = [*(self.diagnosis.hypotheses if self.diagnosis else []),
                 *(m.hypothesis for s in self.steps for m in s.predicates() if m.hypothesis),
                 *(a.match.hypothesis for a in self.anti_patterns if a.match.hypothesis)]
        extra = [Hypothesis(id=t) for t in dict.fromkeys(named) if t and t not in known]
        return [*self.hypotheses, *extra]

    def names(self, hypothesis_tag: str | None, text: str | None) -> str | None:
        """The hypothesis a note names: its tag (or an alias of one), else the one whose phrases its
        text contains most often (not negated; the earliest among equals); None when it names none
        the runbook knows."""
        vocabulary = _vocabulary(self)
        if hypothesis_tag:
            found = vocabulary.tags.get(tag(hypothesis_tag))
            if found is not None:
                return found
        if text:
            hits: dict[str, tuple[int, int]] = {}  # hypothesis -> (phrases found, first position)
            for pattern, hypothesis_id in vocabulary.phrases:
                hit = next((h for h in pattern.finditer(text) if not _NEGATED.search(text[:h.start()])), None)
                if hit is not None:
                    count, first = hits.get(hypothesis_id, (0, hit.start()))
                    hits[hypothesis_id] = (count + 1, min(first, hit.start()))
            if hits:  # the cause named most often, and first among equals
                return min(hits, key=lambda h: (-hits[h][0], hits[h][1]))
        return None


class _Vocabulary:
    def __init__(self, runbook: Runbook):
        self.tags: dict[str, str] = {}
        self.phrases: list[tuple[re.Pattern[str], str]] = []
        for h in runbook.vocabulary():
            for name in (h.id, *h.aliases):
                self.tags.setdefault(tag(name), h.id)
            for phrase in h.words:
                self.phrases.append((re.compile(r"(?<!\w)" + re.escape(phrase).replace(r"\ ", r"[\s_-]+") + r"(?!\w)",
                                                re.I), h.id))


_VOCABULARIES: dict[int, tuple[Runbook, _Vocabulary]] = {}


def _vocabulary(runbook: Runbook) -> _Vocabulary:
    cached = _VOCABULARIES.get(id(runbook))
    if cached is None or cached[0] is not runbook:
        if len(_VOCABULARIES) > 64:
            _VOCABULARIES.clear()
        cached = _VOCABULARIES[id(runbook)] = (runbook, _Vocabulary(runbook))
    return cached[1]


class RunbookInvalid(ValueError):
    """A runbook failed validation; str() is the one-line message (without the file name)."""


def machine_part(text: str) -> tuple[dict[str, Any], str]:
    """(the YAML block as a dict, the Markdown without front matter); RunbookInvalid if none."""
    body, block = text, None
    if text.startswith("---\n"):
        end = text.find("\n---", 4)
        if end < 0:
            raise RunbookInvalid("front matter opened with '---' is never closed")
        block, body = text[4:end], text[end + 4:].lstrip("\n")
    else:
        found = FENCE.search(text)
        if found:
            block = found.group(1)
    if block is None:
        raise RunbookInvalid("no machine-readable part: add front matter (--- ... ---) or a ```yaml runbook block")
    data = _yaml(block, RunbookInvalid, "machine-readable block")
    if not isinstance(data, dict):
        raise RunbookInvalid("expected a mapping with id, title, steps, anti_patterns, forbidden, comms, ...")
    return data, body


def _yaml(text: str, error: type[ValueError], where: str) -> Any:
    """YAML text as data, or `error` saying where it stopped parsing."""
    try:
        return load_yaml(text)
    except InputInvalid as exc:
        raise error(f"{where}: {exc}" if where else str(exc)) from None


class VocabularyInvalid(ValueError):
    """The shared hypothesis vocabulary failed validation; str() names the entry."""


def parse_vocabulary(text: str) -> list[Hypothesis]:
    """The shared vocabulary (runbooks/hypotheses.yaml): a list of hypotheses with aliases and words."""
    data = _yaml(text, VocabularyInvalid, "")
    if not isinstance(data, list):
        raise VocabularyInvalid("expected a list of hypotheses ({id, aliases, words})")
    out = []
    for i, item in enumerate(data):
        try:
            out.append(Hypothesis.model_validate(item))
        except ValidationError as exc:
            raise VocabularyInvalid(f"[{i}].{first_error(exc, Hypothesis)}") from None
    return out


def parse_runbook(text: str, actions: Collection[str] = (), shared: Collection[Hypothesis] = ()) -> Runbook:
    """Parse and fully validate a runbook's text; raise RunbookInvalid naming the field. `shared`:
    the vocabulary a runbook's `hypotheses` may name by id, and that fills in the causes its rules
    name without declaring them."""
    data, body = machine_part(text)
    by_id = {h.id: h for h in shared}
    listed = data.get("hypotheses")
    if isinstance(listed, list):
        resolved: list[Any] = []
        for i, item in enumerate(listed):
            if isinstance(item, str):
                if item not in by_id:
                    raise RunbookInvalid(f"hypotheses[{i}]: unknown hypothesis '{item}'{did_you_mean(item, by_id)}; "
                                         "declare it here ({id, aliases, words}) or in runbooks/hypotheses.yaml")
                resolved.append(by_id[item].model_dump())
            else:
                resolved.append(item)
        data = {**data, "hypotheses": resolved}
    try:
        runbook = Runbook.model_validate({**data, "markdown": body})
    except ValidationError as exc:
        raise RunbookInvalid(first_error(exc, Runbook)) from None
    missing = [by_id[h.id] for h in runbook.vocabulary()[len(runbook.hypotheses):] if h.id in by_id]
    if missing:
        runbook = runbook.model_copy(update={"hypotheses": [*runbook.hypotheses, *missing]})
    _check_steps(runbook)
    if actions:
        _check_actions(runbook, actions)
    seen: dict[str, str] = {}
    for i, h in enumerate(runbook.hypotheses):
        for j, name in enumerate((h.id, *h.aliases)):
            where = f"hypotheses[{i}]" + (".id" if j == 0 else f".aliases[{j - 1}]")
            if tag(name) in seen and seen[tag(name)] != h.id:
                raise RunbookInvalid(f"{where}: '{name}' already names hypothesis '{seen[tag(name)]}'")
            if tag(name) in seen and j == 0:
                raise RunbookInvalid(f"{where}: duplicate hypothesis '{name}'")
            seen[tag(name)] = h.id
    if runbook.diagnosis:
        ids = [s.id for s in runbook.steps]
        for i, ref in enumerate(runbook.diagnosis.evidence):
            if ref not in ids:
                raise RunbookInvalid(f"diagnosis.evidence[{i}]: unknown step '{ref}'{did_you_mean(ref, ids)}")
    return runbook


def _check_steps(runbook: Runbook) -> None:
    ids: list[str] = []
    for i, step in enumerate(runbook.steps):
        if step.id in ids:
            raise RunbookInvalid(f"steps[{i}].id: duplicate step id '{step.id}'")
        if not step.predicates():
            raise RunbookInvalid(f"steps[{i}]: needs a match or any_of")
        ids.append(step.id)
    for i, step in enumerate(runbook.steps):
        for j, ref in enumerate(step.after):
            if ref not in ids:
                raise RunbookInvalid(f"steps[{i}].after[{j}]: unknown step '{ref}'{did_you_mean(ref, ids)}")
    cycle = _cycle({s.id: s.after for s in runbook.steps})
    if cycle:
        i = ids.index(cycle[0])
        raise RunbookInvalid(f"steps[{i}].after: cycle {' -> '.join([*cycle, cycle[0]])}")


def _cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One cycle in `graph` (node -> predecessors) as a list of nodes, or None."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] if nxt in path else [nxt]
            if nxt not in state:
                found = visit(nxt, [*path, nxt])
                if found:
                    return found
        state[node] = 2
        return None

    for node in graph:
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def _check_actions(runbook: Runbook, toolbox: Collection[str]) -> None:
    actions = [*toolbox, *SHELL_ONLY_ACTS]
    groups: list[tuple[str, list[Match]]] = []
    for i, step in enumerate(runbook.steps):
        if step.match:
            groups.append((f"steps[{i}].match", [step.match]))
        groups.extend((f"steps[{i}].any_of[{j}]", [m]) for j, m in enumerate(step.any_of))
    groups.extend((f"anti_patterns[{i}].match", [a.match]) for i, a in enumerate(runbook.anti_patterns))
    groups.extend((f"forbidden[{i}].match", [f.match]) for i, f in enumerate(runbook.forbidden))
    for where, matches in groups:
        for match in matches:
            if match.action is not None and match.action not in actions:
                raise RunbookInvalid(f"{where}.action: unknown action '{match.action}'{did_you_mean(match.action, actions)}")
