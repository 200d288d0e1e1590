# The two commands of the README:
#   make serve   -> a virtual environment, everything installed, Paperwire on http://127.0.0.1:8000
#   make test    -> the same environment plus test tools, then the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: serve test install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -e .

install-dev: $(BIN)/python
	$(BIN)/pip install -e '.[dev]'

serve: install
	$(BIN)/paperwire serve

test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)
