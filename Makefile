# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint format bench fuzz clean
FUZZ_INPUTS ?= 100000
FUZZ_JOBS ?= 2

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/agentaudit demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The whole suite, as CI runs it (.ci/run).
test: lint
	$(BIN)/python -m pytest -q

# The inner loop: everything but the tests marked slow (wheel build, notebooks, browser, watch
# subprocesses, corpus-scale runs). Not a substitute for `make test` before a merge.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

# bounded fuzzing campaign outside the unit suite (tests/fuzzing; a slice runs in `make test`)
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzzing --per-collector $(FUZZ_INPUTS) --jobs $(FUZZ_JOBS)

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
