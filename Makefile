# Two commands on a fresh machine with Python 3.11+ and make: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install dev test test-load lint format protos protos-check buf-lint buf-breaking bench-setup bench clean

# Bootstrap uv into the project venv, then install exactly what uv.lock pins.
$(VENV)/.installed: uv.lock pyproject.toml sdk/pyproject.toml selection/pyproject.toml partitions/pyproject.toml protos/pyproject.toml codeserver/pyproject.toml controlplane/pyproject.toml
	test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==0.13.9)
	$(UV) sync --frozen --quiet
	touch $@

install: $(VENV)/.installed

dev: install
	$(VENV)/bin/weir dev -f examples/quickstart/defs.py

test: install
	$(VENV)/bin/pytest

# The load suite (tests/e2e/test_load.py), left out of `make test`, at WEIR_LOAD_SCALE
# (default 0.03, about two minutes; 1 is the full size: bench/load_suite.py).
test-load: install
	$(VENV)/bin/pytest -m load

lint: install buf-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

protos: install
	$(VENV)/bin/python protos/generate.py

protos-check: install
	$(VENV)/bin/python protos/generate.py --check

# buf (the proto linter) comes pinned from npm: protos/package.json and its lock file.
# `npm install --no-save` rather than `npm ci`: the lock holds only the Linux builds of
# buf's per-platform packages, and `npm ci` insists on all of them.
BUF := protos/node_modules/.bin/buf
protos/node_modules/.installed: protos/package.json protos/package-lock.json
	npm install --prefix protos --no-save --no-audit --no-fund --loglevel=error
	touch $@

# buf's default lint style over protos/weir/v1, and its formatting.
buf-lint: protos/node_modules/.installed
	$(BUF) lint protos
	$(BUF) format protos --diff --exit-code

# The contract only grows: fail on a breaking change to protos/ compared with
# BUF_AGAINST (by default the last commit on main, so it checks uncommitted work).
BUF_AGAINST ?= .git\#branch=main,subdir=protos
buf-breaking: protos/node_modules/.installed
	$(BUF) breaking protos --against '$(BUF_AGAINST)'

bench-setup: install
	test -x .venv-dagster/bin/python || $(PYTHON) -m venv .venv-dagster
	.venv-dagster/bin/pip install --quiet -r bench/requirements-dagster.txt

bench: install
	$(VENV)/bin/python bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .venv-dagster .pytest_cache
