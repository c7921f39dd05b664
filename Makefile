# Two commands a new user needs: `make dev` and `make test`. Both create the venv when needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/common/requirements.txt | cksum | cut -d' ' -f1)

.PHONY: venv web dev test test-deployed bench invoke lint validate deploy-check build lock openapi operations-template fuzz load faults publish-web clean

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

# The web UI (frontend/): Node.js 20 and npm install it from package-lock.json and build it to
# frontend/dist, only when the lock file or a source changed since the last build.
WEB_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json
NPM_CHECK := command -v npm >/dev/null || { echo "The web UI needs Node.js 20 and npm (Debian: apt-get install nodejs npm)"; exit 1; }

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	@$(NPM_CHECK)
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(WEB_SOURCES)
	@$(NPM_CHECK)
	cd frontend && npm run build

web: frontend/dist/index.html

dev: $(STAMP) web
	$(PY) -m local.runtime dev

test: $(STAMP) web
	cd frontend && npm test --silent
	$(PY) -m pytest $(PYTEST_ARGS)

# The black-box subset (tests/http) against a deployed stack, through its URL only:
# make test-deployed URL=<the stack's WebUrl output>. An invite-only stack needs an account:
# PYAIRTABLE_EMAIL=... PYAIRTABLE_PASSWORD=... (the suite runs the same tests on its local stack).
test-deployed: $(STAMP)
	@test -n "$(URL)" || { echo "usage: make test-deployed URL=<the stack's WebUrl output>"; exit 2; }
	PYAIRTABLE_URL=$(URL) $(PY) -m pytest --confcutdir=tests/http tests/http $(PYTEST_ARGS)

# Cold starts, warm latency, Airtable economy, throughput and the local stack under load, each
# beside its reference: prints a table, writes bench/results.json (DATABASE_URL as for `make
# test`; ONLY=coldstart,airtable,stack,membership,sagas,workflows,imports runs some).
bench: $(STAMP)
	PYTHONPATH=.:layers/common $(PY) -m bench $(if $(ONLY),--only $(ONLY))

# Docker-free `sam local invoke`: make invoke FN=AuthFunction EVENT=events/auth/login.json
invoke: $(STAMP)
	$(PY) -m local.runtime invoke $(FN) -e $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

lint: $(STAMP)
	$(VENV)/bin/ruff check .

validate: $(STAMP)
	$(VENV)/bin/sam validate --lint

# What CI checks before a deploy: cfn-lint (through sam validate --lint), then the policy
# (deploy/policy.guard; accepted findings with their reasons in deploy/accepted-findings.yaml).
deploy-check: validate
	$(PY) -m local.deploy_check

build: $(STAMP)
	$(VENV)/bin/sam build

# After a change to layers/common/requirements.txt (or the test pins): the layer's whole
# dependency tree, pinned, for layers/common/Makefile (what `sam build` runs).
lock: $(STAMP)
	$(PY) -m local.layer_lock

openapi: $(STAMP)
	PYTHONPATH=.:layers/common $(PY) -m local.openapi --write

# template.yaml's generated operations section (log groups, alarms, dashboard).
operations-template: $(STAMP)
	$(PY) -m local.operations_template

# Schemathesis over every route, signed in, with a larger budget than the suite's (EXAMPLES=n).
fuzz: $(STAMP)
	PYTHONPATH=.:layers/common $(PY) -m tests.fuzz.runner $(if $(EXAMPLES),--max-examples $(EXAMPLES))

# 32 concurrent clients of mixed reads and writes for 60 s (LOAD_SECONDS=n), checked against the
# emulator's tables; `make test` runs the same for 10 s.
load: $(STAMP)
	LOAD_SECONDS=$(or $(LOAD_SECONDS),60) $(PY) -m pytest tests/e2e/test_load.py -q -s

# The fault tests at the issue's size: a 5,000-row import under 20 % 5xx, a 429 storm and lost
# answers, with Airtable's 30 s lock-out (`make test` imports 500 rows and scales the lock-out
# down to 5 s; FAULT_IMPORT_ROWS=n).
faults: $(STAMP)
	FAULT_IMPORT_ROWS=$(or $(FAULT_IMPORT_ROWS),5000) E2E_AIRTABLE_LOCKOUT_SECONDS=30 $(PY) -m pytest tests/e2e/test_faults.py -q -s

# After `sam deploy`: upload frontend/dist to the stack's WebBucket, invalidate CloudFront.
publish-web: $(STAMP) web
	$(PY) -m local.publish_web $(or $(STACK),pyairtable)

clean:
	rm -rf .aws-sam .local
