# Salesync: `make run` starts the system locally, `make test` runs every test.
# Both set up everything they need on a fresh machine with Python 3.11 and PyPI.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
REQUIREMENTS := requirements-dev.txt salesync_common/requirements.txt $(wildcard */requirements.txt)

.PHONY: run test migrate clean bench drill

$(VENV)/.installed: $(REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

run: $(VENV)/.installed
	$(PY) -m local_run

test: $(VENV)/.installed
	$(PY) -m pytest $(PYTEST_ARGS)

migrate: $(VENV)/.installed
	$(PY) -m salesync_common.migrate

clean:
	rm -rf $(VENV) .pytest_cache

$(VENV)/.bench-installed: $(VENV)/.installed bench/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	@touch $@

bench: $(VENV)/.bench-installed
	$(PY) -m bench

drill: $(VENV)/.bench-installed
	$(PY) -m drills
