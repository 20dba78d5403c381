# The two commands a newcomer runs: `make demo` and `make test`. Each bootstraps what it needs.
.PHONY: demo test bench bootstrap clean

VENV := .venv/bin

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@$(VENV)/python scripts/demo.py

test:
	@scripts/bootstrap.sh chromium
	@if docker info >/dev/null 2>&1; then $(VENV)/gameday images build --offline; \
	else echo "compose: no Docker engine answers (docker info fails); the compose tests are skipped"; fi
	@$(VENV)/python -m pytest $(PYTEST_ARGS)

bench:
	@scripts/bootstrap.sh wrk
	@for b in benchmarks/*.py; do echo "== $$b"; $(VENV)/python $$b || exit 1; done

clean:
	-@$(VENV)/gameday down --all 2>/dev/null || true
	rm -rf .gameday
