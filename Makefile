# Speech Harvester: the two commands are `make demo` and `make test`.
# Setup is incremental: a stamp per step, so a second run installs nothing that is already in place.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.requirements.stamp
NODE_STAMP := node_modules/.package-lock.json

.PHONY: setup demo test lint bench schemas clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(PY_STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(BIN)/python -m local.demo $(if $(IDENTITY),--identity)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest

schemas: setup
	$(BIN)/python -m shared.schemas

bench: setup
	$(BIN)/python -m bench.all

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache
