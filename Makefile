# Two commands: `make demo` and `make test` (see README.md). Everything installs itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export ZORGSTROOM_ENV ?= development
SAMPLE_DIR := data/sample
export ZORGSTROOM_LANDING_DIR ?= $(CURDIR)/$(SAMPLE_DIR)/landing
SCALE ?= 1
SEED ?= 20191114

.PHONY: install demo sample pipeline summary dev grant-bi test test-fast lint format bench archive dictionary check-partner reset-warehouse clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,lint]'
	touch $@

$(DAGSTER_HOME)/dagster.yaml: config/dagster/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	cp $< $@

sample: install
	$(BIN)/python -m sampledata --out $(SAMPLE_DIR) --scale $(SCALE) --seed $(SEED)

RUN_LOG := data/logs/last-run.log

# Every run goes through the instance's queue (pipelines/queue.py): `make pipeline` submits a run of
# `everything`, follows it (every event also in $(RUN_LOG)), ends with its outcome, exits with its result.
# With `make dev` running its daemon starts the run; otherwise a daemon is started for as long as the
# queue has work. ZORGSTROOM_FULL_REBUILD=1 make pipeline: rebuild every derived table.
pipeline: install $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m pipelines.cli run --log $(RUN_LOG)

# The warehouse summary, then the outcome of the last run.
summary: install $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m pipelines.cli outcome --summary

demo: sample $(DAGSTER_HOME)/dagster.yaml
	@$(BIN)/python -m pipelines.cli run --summary --log $(RUN_LOG)

dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg dev -w workspace.yaml -h 127.0.0.1 -p 3000

# On a PostgreSQL warehouse: let the BI role read exactly the published tables and dimensions.
ROLE ?= bi_reader
grant-bi: install
	$(BIN)/python -m warehouse.bi_grants $(ROLE) --apply

# PostgreSQL tests: scripts/pg-test-server.sh installs and starts a local server when it can
# (root on Debian). With ZORGSTROOM_REQUIRE_POSTGRES=1 (as in CI) they fail when it cannot.
test: install
	@url=$$(scripts/pg-test-server.sh) || url=""; \
	ZORGSTROOM_TEST_POSTGRES_URL="$${ZORGSTROOM_TEST_POSTGRES_URL:-$$url}" ZORGSTROOM_ENV=test $(BIN)/pytest $(PYTEST_ARGS)

# The quick subset (under two minutes): everything not marked slow (whole-pipeline runs, the webserver,
# the browser, PostgreSQL end to end, the bench references). PostgreSQL unit tests run when a server is there.
test-fast: install
	@url=$$(scripts/pg-test-server.sh 2>/dev/null) || url=""; \
	ZORGSTROOM_TEST_POSTGRES_URL="$${ZORGSTROOM_TEST_POSTGRES_URL:-$$url}" ZORGSTROOM_ENV=test $(BIN)/pytest -m "not slow" $(PYTEST_ARGS)

# ruff (lint and format check) and mypy, as CI runs them before the tests; `make format` rewrites.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmark: per stage wall time, rows/s, peak memory of the process tree, an incremental run, and a
# DuckDB SQL reference computed from the same delivery files (bench/RESULTS.md). The default scales are
# the demo's size, 10x and 55x (about 5 million source rows; generating it takes ~10 min and ~11 GB of
# memory once, the runs ~10 min). BENCH_SCALES=1 for a quick look.
BENCH_SCALES ?= 1 10 55
bench: install
	$(BIN)/python bench/run_bench.py --scales $(BENCH_SCALES) --out bench/out
	$(BIN)/python bench/hostile.py --out bench/out/hostile

# Move every delivery recorded in delivery_log out of the landing folder (ZORGSTROOM_ARCHIVE_DIR, default data/archive).
archive: install
	$(BIN)/python -m warehouse.archive_cli

dictionary: install
	$(BIN)/python -m schemas.dictionary

# Validate one partner mapping (none given: all), and with FILE=<delivery> show how that file would load.
check-partner: install
	$(BIN)/python -m ingest.check_partner $(PARTNER) $(FILE)

reset-warehouse:
	rm -f data/warehouse.duckdb data/warehouse.duckdb.wal data/bi/zorgstroom.duckdb

clean: reset-warehouse
	rm -rf $(SAMPLE_DIR) data/feedback $(DAGSTER_HOME)
