# glider: two commands for a fresh machine
#   make run    create .venv if missing, install, run the embedded default (offline, CPU)
#   make test   same install, then the whole test suite
# Extra arguments: make run ARGS="router=phatgoose"   make test PYTEST_ARGS="-m 'not slow'"

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.glider-installed
ARGS ?=
PYTEST_ARGS ?=
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: install run test test-fast clean-outputs

# --no-compile: byte-compiling every installed file (torch's thousands) takes longer than
# compiling the modules a run imports, once, on first import (install 71 s vs 146 s). That
# needs Python to write its bytecode cache, so make clears PYTHONDONTWRITEBYTECODE for its
# commands (set, every process would recompile torch & co.: 35 s per start instead of 15 s).
export PYTHONDONTWRITEBYTECODE :=
# promptsource 0.2.3 (T0/P3 templates) declares Python < 3.10 and old pins it does not need: installed
# without them; its real needs (jinja2, pyyaml, pandas, setuptools < 81) are in pyproject.toml.
$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --no-compile --upgrade pip
	$(PY) -m pip install --quiet --no-compile "torch==2.13.0" -e ".[dev]"
	$(PY) -m pip install --quiet --no-compile --no-deps --ignore-requires-python "promptsource==0.2.3"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	WANDB_MODE=$${WANDB_MODE:-offline} $(PY) -m glider.run $(ARGS)

# one intra-op thread per test process: the tests use tiny models, and extra threads only
# queue for the cores (several times slower on a shared 2-core machine)
test: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} WANDB_MODE=disabled $(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: $(STAMP)
	OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} WANDB_MODE=disabled $(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

clean-outputs:
	rm -rf outputs multirun
