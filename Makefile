# Two commands a new user needs: `make dev` and `make test`. Both create the venv when needed.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt layers/common/requirements.txt | cksum | cut -d' ' -f1)

.PHONY: venv dev test invoke lint validate build openapi clean

$(STAMP): requirements-dev.txt layers/common/requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

venv: $(STAMP)

dev: $(STAMP)
	$(PY) -m local.runtime dev

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# Docker-free `sam local invoke`: make invoke FN=AuthFunction EVENT=events/auth/login.json
invoke: $(STAMP)
	$(PY) -m local.runtime invoke $(FN) -e $(EVENT) $(if $(ENV_VARS),--env-vars $(ENV_VARS))

lint: $(STAMP)
	$(VENV)/bin/ruff check .

validate: $(STAMP)
	$(VENV)/bin/sam validate --lint

build: $(STAMP)
	$(VENV)/bin/sam build

openapi: $(STAMP)
	$(PY) -m local.openapi --write

clean:
	rm -rf .aws-sam .local
