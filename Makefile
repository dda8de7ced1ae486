# kpitools — `make` alone lists the targets. Every target that needs the Python
# environment creates it first, so any target works as the first command on a fresh clone.

.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON_SYSTEM ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KPITOOLS := $(VENV)/bin/kpitools
STAMP := $(VENV)/.installed
SYSTEM_STAMP := $(VENV)/.system-deps
REPORT_STAMP := $(VENV)/.report-deps
DATA ?= data/demo
DEMO_STAMP := $(DATA)/interactions.parquet
PERIOD ?=
LAB_PORT ?= 8888
PERIOD_ARG := $(if $(PERIOD),--period $(PERIOD),)

# Notebook runs: the venv's kernel must win, inline figures need a GUI-less but non-Agg env.
export JUPYTER_PREFER_ENV_PATH := 1
export GX_ANALYTICS_ENABLED := False
export PYTHONDONTWRITEBYTECODE := 1
unexport MPLBACKEND

.PHONY: help install system-deps demo-data validate weekly-report monthly-report quarterly-report reports interval-report team-report test lint bench lab clean

help: ## Show this help (default target)
	@echo "kpitools — contact-center KPI reviews"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: DATA=$(DATA)  PERIOD=<label, e.g. 2026-W10>  FROM=, TO=<labels> (make reports)"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_SYSTEM) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,spark]'
	$(PY) -m ipykernel install --sys-prefix --name kpitools --display-name "kpitools (venv)" > /dev/null
	@touch $(STAMP)

install: $(STAMP) ## Create .venv, install kpitools with dev tools, Spark and JupyterLab, register the Jupyter kernel

# Debian packages (Chromium, poppler, Java, fonts, Pango): checked once, installed as root,
# or a message naming what is missing. Never from inside a test.
$(SYSTEM_STAMP): tools/system-deps.sh | $(STAMP)
	@bash tools/system-deps.sh test
	@touch $(SYSTEM_STAMP)

$(REPORT_STAMP): tools/system-deps.sh | $(STAMP)
	@bash tools/system-deps.sh report
	@touch $(REPORT_STAMP)

system-deps: $(SYSTEM_STAMP) ## Install the Debian packages the tests need (chromium, poppler-utils, Java, fonts)

$(DEMO_STAMP): | $(STAMP)
	$(KPITOOLS) demo-data --out $(DATA)

demo-data: $(STAMP) ## Generate the deterministic demo data set into data/demo (if missing)
	@if [ -f $(DEMO_STAMP) ]; then echo "demo data already in $(DATA)"; else $(KPITOOLS) demo-data --out $(DATA); fi

validate: $(DEMO_STAMP) ## Run the Great Expectations data-quality gate on the data (DATA=data/demo)
	$(KPITOOLS) validate --data $(DATA) $(PERIOD_ARG)

weekly-report: $(DEMO_STAMP) $(REPORT_STAMP) ## Build the weekly review (HTML + PDF) into reports/weekly/
	$(KPITOOLS) report weekly --data $(DATA) --out reports $(PERIOD_ARG)

monthly-report: $(DEMO_STAMP) $(REPORT_STAMP) ## Build the monthly review into reports/monthly/
	$(KPITOOLS) report monthly --data $(DATA) --out reports $(PERIOD_ARG)

quarterly-report: $(DEMO_STAMP) $(REPORT_STAMP) ## Build the quarterly review into reports/quarterly/
	$(KPITOOLS) report quarterly --data $(DATA) --out reports $(PERIOD_ARG)

# `make reports FROM=2026-W01 TO=2026-W10` builds every complete period of a range (skipping
# unchanged ones); the cadence follows the labels (W: weekly, Q: quarterly, else monthly).
FROM ?=
TO ?=
CADENCE ?= $(if $(findstring W,$(FROM)),weekly,$(if $(findstring Q,$(FROM)),quarterly,monthly))

reports: $(if $(FROM),$(DEMO_STAMP),weekly-report monthly-report quarterly-report) ## Build all three reviews; FROM=2026-W01 TO=2026-W10 builds a range
	$(if $(FROM),$(KPITOOLS) report $(CADENCE) --from $(FROM)$(if $(TO), --to $(TO)) --data $(DATA) --out reports,@true)

interval-report: $(DEMO_STAMP) $(REPORT_STAMP) ## Floor view: per-interval report of a day (PERIOD=2026-03-02 or a week) into reports/interval/
	$(KPITOOLS) report interval --data $(DATA) --out reports $(PERIOD_ARG)

team-report: $(DEMO_STAMP) $(REPORT_STAMP) ## Floor view: team and agent scorecards (PERIOD=2026-W10) into reports/team/
	$(KPITOOLS) report team --data $(DATA) --out reports $(PERIOD_ARG)

test: $(STAMP) $(SYSTEM_STAMP) ## Run the test suite (unit, property, end-to-end renders, notebooks)
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15 tests
	$(PY) -m pytest --nbval-lax -p no:randomly notebooks report_templates

lint: $(STAMP) ## Lint the package and tests with ruff
	$(VENV)/bin/ruff check kpitools tests benchmarks

lab: $(STAMP) ## Open JupyterLab on notebooks/ with the kpitools kernel (prints the URL; no browser needed)
	$(VENV)/bin/jupyter lab --no-browser --ip 127.0.0.1 --port $(LAB_PORT) --notebook-dir notebooks \
	  --MappingKernelManager.default_kernel_name=kpitools $(if $(filter 0,$(shell id -u)),--allow-root,)

bench: $(STAMP) ## Benchmarks: engine vs hand-written SQL; review job and gate on the 10M quarter; Spark cluster vs local
	$(PY) benchmarks/run.py

clean: ## Remove generated data and reports (keeps .venv)
	rm -rf data reports
