# Omni: `make run` starts the whole stack, `make test` runs every test.
# Both create .venv and install into it when it is missing or stale.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint protos bench faults clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	exec $(BIN)/omni up

# Every test, the fault suite in its short form (FAULTS_SIZE=short: each kind
# of fault once, fewer journeys); `make faults` runs its long form.
test: $(STAMP)
	FAULTS_SIZE=short $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# buf breaking compares protos/ with the main branch's (override BUF_AGAINST
# to compare with a release tag, e.g. '../.git#tag=v1.0.0,subdir=protos').
BUF_AGAINST ?= ../.git\#branch=main,subdir=protos

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd protos && ../$(BIN)/buf lint
	cd protos && ../$(BIN)/buf breaking --against '$(BUF_AGAINST)'

protos: $(STAMP)
	$(BIN)/python -m stack.protos

bench: $(STAMP)
	$(BIN)/python -m bench

# The fault suite (tests/faults), long form by default.
# FAULTS_SIZE=short|long sets how many journeys run and how often things die.
FAULTS_SIZE ?= long
faults: $(STAMP)
	FAULTS_SIZE=$(FAULTS_SIZE) $(BIN)/python -m pytest -q tests/faults -o timeout=3600 $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .omni
