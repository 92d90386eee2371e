# Two commands: `make run` serves the whole system locally, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ROLE     ?= operator
OPERATOR ?= did:pierriecardin:manufacturing:europe
N        ?= 1000
# bench.load's arguments: 60 s per phase, 32 clients, over 2,000 passports (at its own default of
# 10,000 the in-memory Cosmos stand-in outlasts the store timeout here: bench/README.md).
LOAD     ?= --passports 2000 --import-rows 500

.PHONY: setup browser run test lint format token bench mutate clean

setup: $(VENV)/.installed node_modules/.installed .venv-checkov/.installed .venv-akeneo/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-worker.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python -r requirements-worker.txt
	touch $@

# checkov scans infra/ (tests/infra/test_checkov.py); its pins clash with ours, so it has its own venv.
.venv-checkov/.installed: requirements-checkov.txt
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --upgrade pip
	.venv-checkov/bin/pip install --quiet -r requirements-checkov.txt
	touch $@

# akeneo-mock-server (tests/support/akeneo_mock.py) needs Python 3.12: pyenv's, or python3.12 on the PATH.
# Without one, setup says so and the test that needs it fails, saying why.
PYTHON312 ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
.venv-akeneo/.installed: requirements-akeneo-mock.txt
	@if [ -z "$(PYTHON312)" ]; then echo "no Python 3.12: akeneo-mock-server not installed"; exit 0; fi; \
	$(PYTHON312) -m venv .venv-akeneo && \
	.venv-akeneo/bin/pip install --quiet --upgrade pip && \
	.venv-akeneo/bin/pip install --quiet -r requirements-akeneo-mock.txt && \
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	$(BIN)/python -m local.run

browser:
	@sh local/ensure_browser.sh

test: setup browser lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

token: setup
	@$(BIN)/python -m local.tokens --role "$(ROLE)" --operator "$(OPERATOR)"

bench: setup
	$(BIN)/python -m bench.read_latency --n $(N)
	$(BIN)/python -m bench.load $(LOAD)

# Mutation testing of the pure modules of shared/ (configured in pyproject.toml, [tool.mutmut]);
# not part of `make test`. A rerun keeps the results of unchanged functions (docs/local.md, Tests).
mutate: setup
	$(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

clean:
	rm -rf $(VENV) .venv-checkov .venv-akeneo node_modules .local .pytest_cache .ruff_cache mutants
