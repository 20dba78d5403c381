"""Seeded variants on a real stack: two seeds of the Flagsmith 2023 replay give two teams different
fault details (when the migration arrives and starts, a hint's wording), the autopilot's runbook
solves both, and the run records its seed (the drill.started event, the run's copy of the
scenario), so `--seed` replays it exactly. (The March replay's variants, its surge and leak, are
drawn and checked by the pure tests: tests/core/test_variants.py; a March drill is a CPU-heavy test.)"""

from __future__ import annotations

import pytest
import yaml
from drill_watcher import run_drill

from lab.catalog import CATALOG
from lab.faults import engine
from lab.stack.config import load_config
from lab.stack.local import LocalStack
from lab.timeline import rundir

pytestmark = [pytest.mark.integration, pytest.mark.cpu_slot]

SEEDS = (11, 12)
SCENARIO = "flagsmith-2023-migration-lock"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    scenario, _ = CATALOG.load(CATALOG.resolve(SCENARIO))
    s = LocalStack("variants", tmp_path_factory.mktemp("gd"), load_config(None, scenario.stack.overrides()))
    s.up()
    yield s
    engine.revert_all(s)
    s.down(purge=True)


def test_two_seeds_give_different_faults_the_same_seed_the_same_and_the_autopilot_solves_both(stack):
    path = CATALOG.resolve(SCENARIO)
    loaded = {seed: CATALOG.load(path, seed=seed) for seed in SEEDS}
    assert CATALOG.load(path, seed=SEEDS[0])[1] == loaded[SEEDS[0]][1]  # the same seed: the same scenario, byte for byte
    a, b = (loaded[seed][0] for seed in SEEDS)
    assert [(f.params, f.at_s) for f in a.faults] != [(f.params, f.at_s) for f in b.faults]
    for seed, (scenario, text) in loaded.items():
        before = len(engine.journal_for(stack).records())
        drill, _watch, result = run_drill(scenario, text, stack, "autopilot", speed=20.0)
        assert result.outcome == "recovered", (seed, result)
        started = next(e for e in drill.timeline.read() if e.kind == "drill.started")
        assert started.data["seed"] == seed
        copy = yaml.safe_load((result.run_dir / rundir.SCENARIO).read_text())
        assert copy["seed"] == seed and "variants" not in copy
        # the faults injected are the variant's, as written in the run's copy (times scaled by the speed)
        injected = [r for r in engine.journal_for(stack).records()[before:] if r["op"] == "inject"]
        migration = scenario.fault("migration")
        assert [r["kind"] for r in injected] == ["ddl_lock_queue"]
        assert injected[0]["params"]["delay_s"] == pytest.approx(migration.params["delay_s"] / 20.0, abs=1e-3)
        at = next(e.offset_s for e in drill.timeline.read() if e.kind == "fault.injected")
        assert at >= migration.at_s  # the variant's start, jitter included
        assert not engine.journal_for(stack).active()
