# The commands the README promises. Each one first makes sure .venv/ exists and holds
# tokenpath with its dev extras; the install runs again only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench bench-peers mutation constraints deps-newest clean

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "could not create $(VENV): install Python 3.11+ with venv (Debian: python3-venv)"; exit 1; }

# constraints.txt pins the set CI tests (every package, with its dependencies); pyproject.toml
# keeps the ranges a user's `pip install tokenpath` may take. Refresh it with `make constraints`.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]' -c constraints.txt
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

# pin what .venv holds now as the tested set (run after changing a dependency and a green test run)
constraints: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable --all | grep -v -E '^(pip|setuptools|wheel)==' \
	  | LC_ALL=C sort > constraints.txt

# the newest releases pyproject.toml's ranges allow, in a venv of their own, then the whole suite:
# run it on a schedule to learn early when a new release breaks tokenpath (or a bound can move)
deps-newest:
	rm -rf .venv-newest
	$(PYTHON) -m venv .venv-newest
	.venv-newest/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	.venv-newest/bin/python -m pip freeze --exclude-editable | LC_ALL=C sort
	.venv-newest/bin/pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) .venv-newest .tokenpath .tokenpath-demo .pytest_cache .mypy_cache .ruff_cache .hypothesis
