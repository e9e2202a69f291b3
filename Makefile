# cmclaims: `make help` lists the targets. Every target installs what it needs first.
SHELL := /bin/bash
# The first interpreter that actually runs and is Python 3.11 or newer (a pyenv shim may exist and fail).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
# The stamp changes whenever the dependencies do, so `make install` re-runs only then.
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
DEMO_OUT ?= demo-out
BENCH_OUT ?= bench-out
BENCH_ARGS ?= --repeat 3  # medians of three: one run of a 2-core VM can be off by half
SOAK_EXAMPLES ?= 2000
BENCH_LOCK ?=# a file to flock while benchmarking, on a machine shared with others' benchmarks

.DEFAULT_GOAL := help
.PHONY: help install demo test check lint bench bench-dask soak docs clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv from PyPI and install cmclaims with its tools (idempotent)

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "cmclaims needs Python 3.11 or newer (python3, python3.11 ...) on the PATH" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

demo: install ## validate the bundled sample data and show what a clerk sees
	@bash scripts/demo.sh $(DEMO_OUT)

test: install ## run the test suite
	$(BIN)/python -m pytest

lint: install ## ruff and mypy
	$(BIN)/ruff check cmclaims tests cli.py scripts
	$(BIN)/mypy cmclaims

check: lint test ## lint, type-check and test

bench: install ## cmclaims vs an I/O floor and a DuckDB query, realistic and terrible nights, 1M-20M lines; compliance over a 5M-line year (long)
	@$(BIN)/python -c 'import duckdb' 2>/dev/null || \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python scripts/bench.py --out $(BENCH_OUT) $(BENCH_ARGS)
	$(BIN)/python scripts/bench_compliance.py --out $(BENCH_OUT)/compliance

soak: install ## long property runs: thousands of random multi-night ledger histories against the model (SOAK_EXAMPLES)
	CMCLAIMS_SOAK_EXAMPLES=$(SOAK_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-show-statistics tests/ledger/test_model.py

bench-dask: install ## validate 5M, 20M and 50M lines of Parquet with --engine dask on a LocalCluster (long)
	$(if $(BENCH_LOCK),flock $(BENCH_LOCK) )$(BIN)/python scripts/bench_dask.py --out $(BENCH_OUT)/dask

docs: install ## regenerate docs/rules.md from the rule registry
	$(BIN)/python -m cmclaims.docs > docs/rules.md
	$(BIN)/python -m cmclaims.policy_doc docs/policy

clean: ## remove the virtualenv and generated outputs
	rm -rf $(VENV) $(DEMO_OUT) $(BENCH_OUT) .pytest_cache .mypy_cache .ruff_cache
