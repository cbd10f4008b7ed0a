# Every target wraps the `dtobs` CLI. `make up` and `make test` install what they need first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DTOBS := $(BIN)/dtobs
SPEC ?= observability.yaml
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: help deps backends render render-check check test unit e2e bench up down status gate report clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

deps: $(STAMP) ## the Python venv with the project and its test tools

backends: deps ## install/build the native backends (Prometheus, Alertmanager, collector, Jaeger, OpenSearch), cached
	$(DTOBS) backends install

render: deps ## render observability.yaml into config/, dashboards/ and the compose file
	$(DTOBS) render $(SPEC)

render-check: deps ## fail when the committed output differs from a fresh render
	$(DTOBS) render $(SPEC) --check

check: backends render-check ## run the real validators on the committed output
	$(DTOBS) check

unit: deps ## the tests that need no running backend
	$(BIN)/pytest -m 'not e2e' $(PYTEST_ARGS)

e2e: backends ## end-to-end tests against the native backends
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

# The end-to-end tests run in a process of their own: their synthetic trading app initialises the
# library's process-wide runtime, which the unit tests must not inherit.
test: backends render-check ## every test: unit, validators, end-to-end
	$(DTOBS) check
	$(BIN)/pytest -m 'not e2e' $(PYTEST_ARGS)
	$(BIN)/pytest -m e2e $(PYTEST_ARGS)

bench: deps ## hot-path and generator benchmarks, printed side by side with their peers
	$(BIN)/python benchmarks/bench_hot_path.py --write
	$(BIN)/python benchmarks/bench_slo_rules.py

up: backends ## run the stack: Docker Compose where an engine answers, else native processes
	$(DTOBS) up

down: deps ## stop what `make up` started
	$(DTOBS) down

status: deps ## health of every service
	$(DTOBS) status

gate: deps ## the deploy gate against the running Prometheus (exit 0 pass, 1 fail, 2 cannot decide)
	$(DTOBS) gate

report: deps ## SLO report (HTML + PNG) from Prometheus data
	$(DTOBS) report

clean: ## remove the venv and run state (the backend cache in ~/.cache is kept)
	rm -rf $(VENV) .dtobs .pytest_cache
