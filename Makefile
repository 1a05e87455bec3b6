# Invex: `make help` lists every target.
PYTHON ?= python3
# CI points VENV at a cache keyed by the lock's hash; on a laptop it is .venv in the clone.
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK_HASH := $(shell sha256sum requirements.lock | cut -c1-16)
DEPS_STAMP := $(VENV)/.deps-$(LOCK_HASH)

.DEFAULT_GOAL := help
.PHONY: help install up test test-fast lint format typecheck bench accuracy lock clean

help: ## list every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(DEPS_STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --no-input -r requirements.lock
	rm -f $(VENV)/.deps-*
	touch $@

install: $(DEPS_STAMP) ## build the venv from requirements.lock (and install invex into it)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --no-input -e .

up: install ## run the whole service (embedded PostgreSQL and Redis unless URLs are set)
	$(VENV)/bin/invex up

test: install ## run the test suite (starts its own private PostgreSQL and Redis)
	$(PY) -c "from common.embedded import ensure_binaries_installed as e; e()"
	$(PY) -m pytest -q

test-fast: install ## unit tests only (no servers)
	$(PY) -m pytest -q tests/unit

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install ## mypy on common/ and api/
	$(VENV)/bin/mypy common api

bench: install ## API load and extraction speed benchmarks (print figures)
	$(PY) bench/api_load.py
	$(PY) bench/extract_speed.py

accuracy: install ## score the extractor on the development corpus (../shared/corpus)
	$(PY) bench/accuracy.py

lock: ## rewrite requirements.lock from the current venv
	{ head -2 requirements.lock; $(PY) -m pip freeze --all --exclude-editable | grep -v '^invex'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean: ## remove the venv and the embedded servers' data
	rm -rf $(VENV) .invex
