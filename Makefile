# Two commands on a fresh machine with Python 3.11+ and make: `make dev` and `make test`.
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install ui dev test test-load compat-dagster lint deploy-lint format protos protos-check buf-lint buf-breaking bench-setup bench clean

# The web UI (ui/): npm packages from its lock file, built by Vite into the control
# plane's package (ui_static/, gitignored, shipped in the wheel) when its sources change.
UI_STAMP := controlplane/weir_controlplane/ui_static/.built
UI_SOURCES := $(shell find ui/src -type f 2>/dev/null) ui/index.html ui/vite.config.ts ui/tsconfig.json
ui/node_modules/.installed: ui/package.json ui/package-lock.json
	npm ci --prefix ui --no-audit --no-fund --loglevel=error
	touch $@

$(UI_STAMP): ui/node_modules/.installed $(UI_SOURCES)
	npm run --prefix ui --silent build -- --logLevel warn
	touch $@

ui: $(UI_STAMP)

# Bootstrap uv into the project venv, then install exactly what uv.lock pins.
$(VENV)/.installed: uv.lock pyproject.toml sdk/pyproject.toml selection/pyproject.toml partitions/pyproject.toml protos/pyproject.toml codeserver/pyproject.toml controlplane/pyproject.toml
	test -x $(UV) || ($(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==0.13.9)
	$(UV) sync --frozen --quiet
	touch $@

# The dbt that tests/sdk/test_dbt_assets.py runs, in an environment of its own (dbt-core's adapters
# pin protobuf below what weir_protos needs), exactly as tests/dbt_env/uv.lock pins it.
DBT_ENV := tests/dbt_env/.venv
$(DBT_ENV)/.installed: tests/dbt_env/uv.lock tests/dbt_env/pyproject.toml $(VENV)/.installed
	UV_PROJECT_ENVIRONMENT=$(CURDIR)/$(DBT_ENV) $(UV) sync --frozen --quiet --project tests/dbt_env
	touch $@

install: $(VENV)/.installed $(DBT_ENV)/.installed $(UI_STAMP)

dev: install
	$(VENV)/bin/weir dev -f examples/quickstart/defs.py

# The suite in TEST_WORKERS processes (pytest-xdist), a file to a worker: most of its time
# is waiting on real servers and processes, which overlaps well even on two cores. Each
# PostgreSQL test works in a schema of its own and every server takes a free port, so
# workers never share state. The slowest tests are listed at the end.
TEST_WORKERS ?= 2
test: install
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

# The load suite (marker `load`: tests/e2e/test_load.py, the 500-watcher test), left out of `make test`, at WEIR_LOAD_SCALE
# (default 0.03, about two minutes; 1 is the full size: bench/load_suite.py).
test-load: install
	$(VENV)/bin/pytest -m load

lint: install buf-lint deploy-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	ui/node_modules/.bin/tsc --noEmit -p ui

# deploy/ without Docker or a cluster: the Dockerfiles linted (hadolint, from PyPI), the
# compose file against the Compose specification's schema, the Kubernetes manifests
# rendered from their example values and checked against the API's schemas.
deploy-lint: install
	$(VENV)/bin/hadolint deploy/docker/*.Dockerfile
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
	$(VENV)/bin/python deploy/kubernetes/render.py deploy/kubernetes/values.yaml --check

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

protos: install protos/node_modules/.installed
	$(VENV)/bin/python protos/generate.py

protos-check: install protos/node_modules/.installed
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

# tests/compat against Dagster itself, the reference the compatibility cases are written
# to: the same files in .venv-dagster with WEIR_COMPAT_TARGET=dagster. The project's
# pytest options are for the Weir suite (plugins, warnings as errors), so they are reset.
compat-dagster: bench-setup
	.venv-dagster/bin/pip install --quiet pytest==9.2.0 pytest-timeout==2.4.0
	WEIR_COMPAT_TARGET=dagster .venv-dagster/bin/pytest tests/compat --confcutdir=tests/compat \
		-p no:cacheprovider -o addopts="" -o filterwarnings="" -q

bench: install
	$(VENV)/bin/python bench/run.py $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) $(DBT_ENV) .venv-dagster .pytest_cache ui/node_modules controlplane/weir_controlplane/ui_static
