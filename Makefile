# Two set-up commands: `make demo` and `make test`. Both create .venv/ when it is missing and
# install the locked dependencies (requirements/*.txt, with hashes), then triage itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PORT ?= 8501
# Loopback only: the registry holds names of people at risk.
ADDRESS ?= localhost
# The locks: requirements/app.txt (run time + the app extra, for `make demo`) and
# requirements/dev.txt (+ the dev extra, for `make test`); the same pins where they overlap.
LOCK_APP := requirements/app.txt
LOCK_DEV := requirements/dev.txt
# The floors check (`make floors`, in CI): a separate venv with every dependency at its floor.
FLOORS := .venv-floors
FLOOR_TESTS ?= tests/packaging tests/schema tests/synth tests/features tests/scoring tests/explain \
	tests/allocate tests/intake tests/registry tests/audit tests/evaluate tests/followup tests/monitor
# Where `make lock` keeps uv, the resolver (not a dependency of triage).
TOOLS := .venv-tools

.PHONY: install install-app demo prepare test lint format bench floors lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The locked packages first, exactly and nothing else (--no-deps, hashes checked), then triage
# from this checkout without dependencies.
$(VENV)/.app-stamp: $(LOCK_APP) pyproject.toml setup.py | $(BIN)/python
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK_APP)
	$(PIP) install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-stamp: $(LOCK_DEV) pyproject.toml setup.py | $(BIN)/python
	$(PIP) install --quiet --require-hashes --no-deps -r $(LOCK_DEV)
	$(PIP) install --quiet --no-deps -e .
	touch $@ $(VENV)/.app-stamp

install-app: $(VENV)/.app-stamp

install: $(VENV)/.dev-stamp

# Build the simulated history and load the registry if missing, then serve the app.
prepare: install-app
	$(BIN)/triage demo prepare

demo: prepare
	$(BIN)/python app/serve.py --server.port $(PORT) --server.address $(ADDRESS) \
		--server.headless true \
		--browser.gatherUsageStats false

# The whole suite, slow tests included: on both cores (pytest-xdist), then the real-browser tests
# alone (a Streamlit server and Chromium each), so they never compete with the rest for the cores.
test: install
	$(BIN)/python -m pytest -q -n auto --dist loadgroup -m "not browser"
	$(BIN)/python -m pytest -q -m browser

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench` runs every benchmark; `make bench ONLY=reliability` one of them (see benchmarks/).
ONLY ?=
bench: install
	$(BIN)/python -m benchmarks $(ONLY)

# Every dependency at the floor pyproject.toml states (.ci/floors.py turns the `>=` bounds into
# pip constraints), in its own venv, then a quick subset of the tests.
floors:
	rm -rf $(FLOORS)
	$(PYTHON) -m venv $(FLOORS)
	$(PYTHON) .ci/floors.py app > $(FLOORS)/floors.txt
	$(FLOORS)/bin/python -m pip install --quiet -c $(FLOORS)/floors.txt -e '.[app,dev]'
	$(FLOORS)/bin/python -m pytest -q -n auto --dist loadgroup -m "not slow and not browser" $(FLOOR_TESTS)

# Refresh the locks after a change of pyproject.toml's dependencies: keeps every pin that still
# fits; `make lock UPGRADE=1` moves every package to its newest allowed version.
LOCK_FLAGS = --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" \
	$(if $(UPGRADE),--upgrade)
lock:
	test -x $(TOOLS)/bin/uv || { $(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install --quiet uv; }
	$(TOOLS)/bin/uv pip compile pyproject.toml --extra app --extra dev $(LOCK_FLAGS) -o $(LOCK_DEV)
	cp $(LOCK_DEV) $(LOCK_APP)
	$(TOOLS)/bin/uv pip compile pyproject.toml --extra app $(LOCK_FLAGS) -o $(LOCK_APP)

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
