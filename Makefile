# The commands the README promises. Each one first makes sure .venv/ exists and holds
# tokenpath with its dev extras; the install runs again only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench bench-peers mutation clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "could not create $(VENV): install Python 3.11+ with venv (Debian: python3-venv)"; exit 1; }

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tokenpath demo

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

check: lint typecheck test

# tokenpath alone: SQLite, 1 worker, concurrency 8, every scenario, 3 x 5 s each (bench/README.md)
bench: $(STAMP)
	$(BIN)/python bench/run.py --duration 5

# the same run with the peer servers of ../shared/peers side by side, at concurrency 8 and 32;
# add --grow 10000,1000000 for the growth runs (see bench/README.md)
bench-peers: $(STAMP)
	$(BIN)/python bench/run.py --concurrency 8,32 --peers node,node2,node-opaque,authlib

# mutation testing of the security-critical core modules ([tool.mutmut] in pyproject.toml);
# minutes, so run by hand and not part of `test` or CI. Starts afresh, ends by listing the
# mutants no test killed (docs/security.md explains each); `mutmut show NAME` prints one.
mutation: $(STAMP)
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .tokenpath .tokenpath-demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
