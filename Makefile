# The two commands a newcomer runs: `make demo` and `make test`. Each bootstraps what it needs.
.PHONY: demo test bench bootstrap clean

VENV := .venv/bin

bootstrap:
	@scripts/bootstrap.sh

demo: bootstrap
	@$(VENV)/python scripts/demo.py

test: bootstrap
	@$(VENV)/python -m pytest $(PYTEST_ARGS)

bench:
	@scripts/bootstrap.sh wrk
	@$(VENV)/python benchmarks/stack_up.py
	@$(VENV)/python benchmarks/arcade_http.py

clean:
	-@$(VENV)/gameday down --all 2>/dev/null || true
	rm -rf .gameday
