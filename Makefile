# kpitools — `make` alone lists the targets. Every target that needs the Python
# environment creates it first, so any target works as the first command on a fresh clone.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KPITOOLS := $(VENV)/bin/kpitools
STAMP := $(VENV)/.installed
DATA ?= data/demo
DEMO_STAMP := $(DATA)/interactions.parquet
PERIOD ?=
PERIOD_ARG := $(if $(PERIOD),--period $(PERIOD),)

# Notebook runs: the venv's kernel must win, inline figures need a GUI-less but non-Agg env.
export JUPYTER_PREFER_ENV_PATH := 1
export GX_ANALYTICS_ENABLED := False
export PYTHONDONTWRITEBYTECODE := 1
unexport MPLBACKEND

.PHONY: help install demo-data validate weekly-report monthly-report quarterly-report reports test lint bench clean

help: ## Show this help (default target)
	@echo "kpitools — contact-center KPI reviews"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: DATA=$(DATA)  PERIOD=<label, e.g. 2026-W10>  FROM=, TO=<labels> (make reports)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m ipykernel install --sys-prefix --name kpitools --display-name "kpitools (venv)" > /dev/null
	@touch $(STAMP)

install: $(STAMP) ## Create .venv, install kpitools with dev tools, register the Jupyter kernel

$(DEMO_STAMP): | $(STAMP)
	$(KPITOOLS) demo-data --out $(DATA)

demo-data: $(STAMP) ## Generate the deterministic demo data set into data/demo (if missing)
	@if [ -f $(DEMO_STAMP) ]; then echo "demo data already in $(DATA)"; else $(KPITOOLS) demo-data --out $(DATA); fi

validate: $(DEMO_STAMP) ## Run the Great Expectations data-quality gate on the data (DATA=data/demo)
	$(KPITOOLS) validate --data $(DATA) $(PERIOD_ARG)

weekly-report: $(DEMO_STAMP) ## Build the weekly review (HTML + PDF) into reports/weekly/
	$(KPITOOLS) report weekly --data $(DATA) --out reports $(PERIOD_ARG)

monthly-report: $(DEMO_STAMP) ## Build the monthly review into reports/monthly/
	$(KPITOOLS) report monthly --data $(DATA) --out reports $(PERIOD_ARG)

quarterly-report: $(DEMO_STAMP) ## Build the quarterly review into reports/quarterly/
	$(KPITOOLS) report quarterly --data $(DATA) --out reports $(PERIOD_ARG)

# `make reports FROM=2026-W01 TO=2026-W10` builds every complete period of a range (skipping
# unchanged ones); the cadence follows the labels (W: weekly, Q: quarterly, else monthly).
FROM ?=
TO ?=
CADENCE ?= $(if $(findstring W,$(FROM)),weekly,$(if $(findstring Q,$(FROM)),quarterly,monthly))

reports: $(if $(FROM),$(DEMO_STAMP),weekly-report monthly-report quarterly-report) ## Build all three reviews; FROM=2026-W01 TO=2026-W10 builds a range
	$(if $(FROM),$(KPITOOLS) report $(CADENCE) --from $(FROM)$(if $(TO), --to $(TO)) --data $(DATA) --out reports,@true)

test: $(STAMP) ## Run the test suite (unit, property, end-to-end renders, notebooks)
	$(PY) -m pytest -n 2 --dist loadgroup tests
	$(PY) -m pytest --nbval-lax -p no:randomly notebooks report_templates

lint: $(STAMP) ## Lint the package and tests with ruff
	$(VENV)/bin/ruff check kpitools tests benchmarks

bench: $(STAMP) ## Benchmarks: engine vs hand-written DuckDB SQL, validation gate, weekly review
	$(PY) benchmarks/run.py

clean: ## Remove generated data and reports (keeps .venv)
	rm -rf data reports
