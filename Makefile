# The two commands a newcomer runs: `make demo` and `make test`. Each bootstraps what it needs.
.PHONY: demo test bench bootstrap clean

VENV := .venv/bin

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@$(VENV)/python scripts/demo.py

# The tests run on TEST_WORKERS processes (pytest-xdist): each test file whole on one worker, the
# longest first, and at most two `cpu_slot` tests (surge drills, load tests, timing checks) at once
# across all of them (tests/conftest.py). Three workers on two cores: most tests wait on real time (drill
# seconds, restarts, health checks), not on the CPU. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 3

test:
	@scripts/bootstrap.sh chromium
	@if docker info >/dev/null 2>&1; then $(VENV)/gameday images build --offline; \
	else echo "compose: no Docker engine answers (docker info fails); the compose tests are skipped"; fi
	@echo "mypy: strict on lab/stack and lab/core, the rest of lab/ as it is"
	@$(VENV)/python -m mypy
	@$(VENV)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(PYTEST_ARGS)

bench:
	@scripts/bootstrap.sh wrk
	@for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/python $$b || exit 1; done

clean:
	-@$(VENV)/gameday down --all 2>/dev/null || true
	rm -rf .gameday
