# Salesync: `make run` starts the system locally, `make test` runs every test, `make lint` checks the code.
# All three set up everything they need on a fresh machine with Python 3.11 and PyPI.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements-dev.txt salesync_common/requirements.txt $(wildcard */requirements.txt)

.PHONY: run test lint migrate clean bench drill

$(VENV)/.installed: $(REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	$(PY) -m local_run

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

# Product code: what the images ship (the shared package and the services), without tests or migrations.
PRODUCT := salesync_common bff $(wildcard *_service)

# ruff (rules and their reasons in pyproject.toml), no product function graded worse than C by radon,
# and the import contracts in pyproject.toml (layers, independent services, no import circle).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/xenon --max-absolute C --exclude '*/tests/*,*/migrations/*' $(PRODUCT)
	$(VENV)/bin/lint-imports --no-logo

migrate: $(VENV)/.installed
	$(PY) -m salesync_common.migrate

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache

$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

bench: $(VENV)/.bench-installed
	$(PY) -m bench

drill: $(VENV)/.bench-installed
	$(PY) -m drills
