"""The lab's catalog: scenarios, runbooks and original paths, found and validated from one project root.

    <root>/scenarios/<id>.yaml ──load──▶ Scenario (checked against the fault, action and alert registries)
                                           ├── runbook ─────────▶ <root>/runbooks/<runbook>.md ──▶ Runbook
                                           └── based_on.original ▶ <root>/scenarios/originals/<name>.yaml ──▶ OriginalPath

A scenario file elsewhere (a test fixture, a copy in a run directory) finds its runbook in a
`runbooks/` directory beside its own `scenarios/` directory, and its original path in an
`originals/` directory beside the file; what is not there comes from the catalog's root.
A scenario that names no original path (`based_on.original`) is a retelling of the March 2023
outage: DEFAULT_ORIGINAL.

Errors name the file and the field, and say what is valid: `scenarios/x.yaml: faults[2].kind: ...`.
`CATALOG` is the project's own; `Catalog(root)` reads another tree the same way.
"""

from __future__ import annotations

from pathlib import Path

from lab.actions import ACTIONS
from lab.core.errors import did_you_mean
from lab.core.original import OriginalInvalid, OriginalPath, parse_original
from lab.core.runbook import Hypothesis, Runbook, RunbookInvalid, VocabularyInvalid, parse_runbook, parse_vocabulary
from lab.core.scenario import Scenario, ScenarioInvalid, parse_scenario
from lab.errors import UsageError, display
from lab.faults import FAULT_PARAMS
from lab.inputs import read_text
from lab.monitor.rules import default_rules

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_ORIGINAL = "march-2023-db-overload"  # the seed postmortem's outage
CATALOG_RUNBOOKS = PROJECT / "runbooks"


def alert_names() -> list[str]:
    """The alerts a scenario may wait for or disable."""
    return [rule.name for rule in default_rules()]


VOCABULARY = "hypotheses.yaml"  # the causes teams name, shared by the runbooks beside it


def load_vocabulary(path: Path) -> list[Hypothesis]:
    """The shared hypothesis vocabulary (none when the file is absent), or UsageError naming the entry."""
    if not path.exists():
        return []
    text = read_text(path)
    try:
        return parse_vocabulary(text)
    except VocabularyInvalid as exc:
        raise UsageError(f"{display(path)}: {exc}") from None


def load_runbook(path: Path) -> Runbook:
    """A validated Runbook, or UsageError `runbooks/x.md: steps[2].match.acton: unknown field; ...`."""
    text = read_text(path)
    shared = load_vocabulary(path.parent / VOCABULARY)
    if not shared and path.parent != CATALOG_RUNBOOKS:
        shared = load_vocabulary(CATALOG_RUNBOOKS / VOCABULARY)  # a runbook elsewhere uses the lab's words
    try:
        return parse_runbook(text, ACTIONS, shared)
    except RunbookInvalid as exc:
        raise UsageError(f"{display(path)}: {exc}") from None


def load_original(path: Path) -> OriginalPath:
    """A validated original path, or UsageError `scenarios/originals/x.yaml: steps[2].at_min: ...`."""
    try:
        return parse_original(read_text(path))
    except OriginalInvalid as exc:
        raise UsageError(f"{display(path)}: {exc}") from None


class Catalog:
    """The scenarios, runbooks and original paths under one root."""

    def __init__(self, root: Path):
        self.root = root
        self.scenario_dir = root / "scenarios"
        self.runbook_dir = root / "runbooks"
        self.originals_dir = self.scenario_dir / "originals"

    def __repr__(self) -> str:
        return f"Catalog({str(self.root)!r})"

    # --- scenarios -----------------------------------------------------------------------------

    def scenario_files(self) -> list[Path]:
        return sorted(self.scenario_dir.glob("*.yaml"))

    def resolve(self, name_or_path: str) -> Path:
        """A scenario given as a file path, or as an id found in the catalog's scenarios/."""
        path = Path(name_or_path)
        if path.suffix in (".yaml", ".yml") or path.exists():
            if not path.is_file():
                raise UsageError(f"{name_or_path}: no such scenario file")
            return path
        candidate = self.scenario_dir / f"{name_or_path}.yaml"
        if candidate.is_file():
            return candidate
        known = [p.stem for p in self.scenario_files()]
        raise UsageError(f"unknown scenario '{name_or_path}'{did_you_mean(name_or_path, known)}")

    def load(self, path: Path, runbooks: list[str] | None = None, seed: int | None = None) -> tuple[Scenario, str]:
        """(Scenario, its text), its runbook and original path valid too; UsageError naming the file and field.

        `runbooks`: the runbook names to accept (default: those beside the file, else the catalog's).
        `seed`: the variant of a scenario with `variants:` to return (its concrete text, `seed: N` in
        it; lab.core.variants); None: the scenario as written."""
        text = read_text(path)
        known_runbooks = runbooks if runbooks is not None else self.runbook_names(_beside(path, "runbooks"))
        if not known_runbooks:
            known_runbooks = self.runbook_names()
        try:
            scenario = parse_scenario(text, FAULT_PARAMS, known_runbooks, ACTIONS, alert_names())
        except ScenarioInvalid as exc:
            raise UsageError(f"{display(path)}: {exc}") from None
        self.runbook(scenario.runbook, near=path)  # the runbook's machine part must be valid too
        self.original(scenario, near=path)  # and its original path
        if seed is not None and scenario.variants is not None:
            scenario, text = self.variant(scenario, text, seed, known_runbooks, path)
        return scenario, text

    def variant(self, scenario: Scenario, text: str, seed: int, runbooks: list[str], path: Path) -> tuple[Scenario, str]:
        """The concrete scenario `seed` gives (validated like any scenario file)."""
        import yaml

        from lab.core import variants
        from lab.core.safe_input import load_yaml

        assert scenario.variants is not None
        if not 0 <= seed <= variants.MAX_SEED:
            raise UsageError(f"--seed {seed}: use a whole number from 0 to {variants.MAX_SEED}")
        chosen = variants.choose(scenario.variants, [f.id for f in scenario.faults], seed)
        doc = variants.apply(load_yaml(text), chosen)
        concrete = f"# {scenario.id}, the variant of seed {seed} (lab.core.variants)\n" + yaml.safe_dump(
            doc, sort_keys=False, allow_unicode=True, width=1000)
        try:
            return parse_scenario(concrete, FAULT_PARAMS, runbooks, ACTIONS, alert_names()), concrete
        except ScenarioInvalid as exc:
            raise UsageError(f"{display(path)}: the variant of seed {seed}: {exc}") from None

    # --- runbooks ------------------------------------------------------------------------------

    def runbook_names(self, directory: Path | None = None) -> list[str]:
        """The runbooks in `directory` (default: the catalog's runbooks/), by name."""
        return sorted(p.stem for p in (directory or self.runbook_dir).glob("*.md"))

    def runbook_path(self, name: str, near: Path | None = None) -> Path:
        """runbooks/<name>.md beside the scenarios/ directory of the file `near`, else the catalog's."""
        if near is not None:
            candidate = _beside(near, "runbooks") / f"{name}.md"
            if candidate.is_file():
                return candidate
        return self.runbook_dir / f"{name}.md"

    def runbook(self, name: str, near: Path | None = None) -> Runbook:
        """The runbook `name`, validated (found as runbook_path finds it)."""
        return load_runbook(self.runbook_path(name, near))

    # --- original paths ------------------------------------------------------------------------

    def originals_near(self, near: Path | None = None) -> Path:
        """originals/ beside the scenario file `near`, when there is one; else the catalog's."""
        if near is not None:
            candidate = near.resolve().parent / "originals"
            if candidate.is_dir():
                return candidate
        return self.originals_dir

    def original_path(self, name: str, near: Path | None = None) -> Path:
        """originals/<name>.yaml beside the scenario file `near` if it is there, else the catalog's;
        UsageError saying which names are valid."""
        directory = self.originals_near(near)
        for candidate in (directory / f"{name}.yaml", self.originals_dir / f"{name}.yaml"):
            if candidate.is_file():
                return candidate
        known = sorted({p.stem for d in (directory, self.originals_dir) for p in d.glob("*.yaml")})
        default = " (the default for a scenario that names none)" if name == DEFAULT_ORIGINAL else ""
        raise UsageError(f"based_on.original: no original path '{name}' in {display(directory)}{default}"
                         f"{did_you_mean(name, known)}")

    def original(self, scenario: Scenario, near: Path | None = None) -> OriginalPath:
        """The incident the scenario retells, as it really went (DEFAULT_ORIGINAL when it names none)."""
        name = scenario.based_on.original if scenario.based_on and scenario.based_on.original else DEFAULT_ORIGINAL
        return load_original(self.original_path(name, near))


def _beside(scenario_file: Path, name: str) -> Path:
    """`name/` beside the directory holding `scenario_file` (runbooks/ next to scenarios/)."""
    return scenario_file.resolve().parent.parent / name


CATALOG = Catalog(PROJECT)
