# Invex: `make help` lists every target.
PYTHON ?= python3
# CI points VENV at a cache keyed by the lock's hash; on a laptop it is .venv in the clone.
VENV ?= .venv
# EXTRAS=easyocr adds the second OCR engine (torch, about 6 GB) from its own lock.
EXTRAS ?=
EASYOCR_VENV ?= .venv-easyocr
PY := $(VENV)/bin/python
LOCKS := requirements.lock $(if $(filter easyocr,$(EXTRAS)),requirements-easyocr.lock)
LOCK_HASH := $(shell cat $(LOCKS) | sha256sum | cut -c1-16)
DEPS_STAMP := $(VENV)/.deps-$(LOCK_HASH)

.DEFAULT_GOAL := help
.PHONY: help install up up-dev test test-fast test-easyocr lint format typecheck migrations-check bench accuracy train lock clean

help: ## list every target
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

$(DEPS_STAMP): $(LOCKS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-deps --no-input $(addprefix -r ,$(LOCKS))
	rm -f $(VENV)/.deps-*
	touch $@

# The project itself, editable: again only when its metadata (entry points) changes.
$(VENV)/.editable: $(DEPS_STAMP) pyproject.toml
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --no-input -e .
	touch $@

install: $(VENV)/.editable ## build the venv from requirements.lock (EXTRAS=easyocr: and its lock)

up: install ## run the whole service (embedded PostgreSQL and Redis unless URLs are set)
	$(VENV)/bin/invex up

up-dev: install ## as up, and webhooks may go to receivers on this machine (invex up --dev)
	$(VENV)/bin/invex up --dev

# One xdist worker more than cores: much of the suite's time is spent waiting on servers
# (start-ups, polls, retry schedules), which the extra worker fills (docs/performance.md).
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))

# A test module per worker at a time (its database and processes are module-scoped);
# coverage of the code the test processes run, with CI's floor. Bytecode is cached even
# where PYTHONDONTWRITEBYTECODE is set: each of the many Python processes the suite starts
# (gunicorn, Celery, the CLI, each xdist worker) would otherwise compile the project, and
# pytest rewrite the test modules, again on every run.
# Coverage is reported once, by coverage itself, which prints it and enforces the floor
# (pyproject's fail_under): pytest-cov's report parses every source file twice.
test: install ## the whole suite, with coverage (private PostgreSQL and Redis per worker)
	$(PY) -m tests.system_packages
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadscope --cov --cov-report= --cov-fail-under=0
	$(PY) -m coverage report --skip-covered

test-fast: install ## unit tests without OCR or drawn corpora (no servers), on every core
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n auto -m "not slow" tests/unit

test-easyocr: ## the OCR tests with the EasyOCR engine, in a venv with the easyocr extra
	$(MAKE) install EXTRAS=easyocr VENV=$(EASYOCR_VENV)
	INVEX_OCR_ENGINE=easyocr $(EASYOCR_VENV)/bin/python -m pytest -q \
		tests/unit/extraction/test_ocr.py tests/unit/extraction/test_ocr_engines.py

lint: install ## ruff check and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install ## format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install ## mypy on common/, api/, workers/ and web/
	$(VENV)/bin/mypy common api workers web

# The schema check needs a PostgreSQL: INVEX_DATABASE_URL's, else a private one started
# from the machine's binaries (installed when missing, as for `make test`).
migrations-check: install ## migration files, and the schema they build matches migrations/schema.sql
	$(PY) -m common.migrations check
	$(PY) -c "from common.embedded import ensure_binaries_installed as e; e()"
	$(PY) -m common.migrations check-schema

bench: install ## API load and extraction speed benchmarks (print figures)
	$(PY) bench/api_load.py
	$(PY) bench/extract_speed.py

accuracy: install ## score the extractor on the development corpus (../shared/corpus)
	$(PY) bench/accuracy.py

# The development corpora the shipped models were trained on, beside the clone.
CORPORA ?= ../shared/corpus:../shared/corpus-layouts

train: install ## rebuild the field ranker's models from their seed (workers/extraction/models)
	INVEX_CORPORA=$(CORPORA) $(PY) -m training.ranker

# Declared by pymupdf for Page.get_layout only (unused here), yet `import pymupdf` loads them.
UNUSED_PYMUPDF_DEPS := ^(pymupdf4llm|pymupdf[-_]layout|networkx)==

lock: ## rewrite both locks from the venvs (.venv without extras, EASYOCR_VENV with easyocr)
	{ head -2 requirements.lock; $(PY) -m pip freeze --all --exclude-editable | grep -v '^invex' \
		| grep -viE '$(UNUSED_PYMUPDF_DEPS)'; } > requirements.lock.new
	{ head -2 requirements-easyocr.lock; $(EASYOCR_VENV)/bin/python -m pip freeze --all --exclude-editable \
		| grep -v '^invex' | grep -vxFf requirements.lock.new; } > requirements-easyocr.lock.new
	mv requirements.lock.new requirements.lock
	mv requirements-easyocr.lock.new requirements-easyocr.lock

clean: ## remove the venv and the embedded servers' data
	rm -rf $(VENV) $(EASYOCR_VENV) .invex
